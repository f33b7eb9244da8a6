import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import t from 'tap';
import { Bonjour } from 'bonjour-service';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { describeService, discoverPrinters, mergeDiscovered } from '../../agent/printing/printer-discovery.js';
import { startIppPrinter } from '../helpers/ipp-printer.js';
import { startTcpProxy } from './tcp-proxy.js';

/**
 * DNS-SD for real: bonjour-service announces a test printer's `_ipp._tcp` / `_ipps._tcp` services
 * over multicast on this machine's interfaces (no avahi runs here, none is needed), discovery
 * finds them, and the URI it builds reaches the real printer behind the announcement.
 */

t.test('describeService: URI from the first IPv4 address, TXT keys case-insensitive', async (t) => {
  const base = { name: 'HP LaserJet [A1B2]', type: 'ipp', host: 'hp-a1b2.local', port: 631 };
  t.same(describeService({ ...base, addresses: ['fe80::1', '192.168.10.31'], txt: { RP: '/ipp/print', TY: 'HP LaserJet M404', pdl: 'application/pdf, image/urf', UUID: 'u-1', color: 'F', Duplex: 'T' } }), {
    name: 'HP LaserJet [A1B2]',
    uri: 'ipp://192.168.10.31/ipp/print',
    secure: false,
    host: 'hp-a1b2.local',
    addresses: ['fe80::1', '192.168.10.31'],
    port: 631,
    resourcePath: 'ipp/print',
    makeAndModel: 'HP LaserJet M404',
    uuid: 'u-1',
    formats: ['application/pdf', 'image/urf'],
    acceptsPdf: true,
    color: false,
    duplex: true,
  });
  t.match(describeService({ ...base, type: 'ipps', port: 8443, addresses: ['fd00::7'], txt: { rp: 'ipp/secure', pdl: 'image/urf' } }), { uri: 'ipps://[fd00::7]:8443/ipp/secure', secure: true, acceptsPdf: false });
  t.match(describeService({ ...base, addresses: ['fe80::9'] }), { uri: 'ipp://hp-a1b2.local/ipp/print' }, 'only link-local: the announced host name');
  t.match(describeService({ ...base, addresses: [], txt: { ty: Buffer.from('Brother') } }), { makeAndModel: 'Brother', formats: [] });
});

t.test('mergeDiscovered: one printer per UUID, ipps preferred, sorted', async (t) => {
  const a = describeService({ name: 'Zeta', type: 'ipp', host: 'z', port: 631, addresses: ['10.0.0.2'], txt: { UUID: 'U1' } });
  const b = describeService({ name: 'Zeta', type: 'ipps', host: 'z', port: 631, addresses: ['10.0.0.2'], txt: { UUID: 'u1' } });
  const c = describeService({ name: 'Alpha', type: 'ipp', host: 'a', port: 631, addresses: ['10.0.0.3'] });
  t.same(mergeDiscovered([a, c, b]).map((p) => p.uri), ['ipp://10.0.0.3/ipp/print', 'ipps://10.0.0.2/ipp/print']);
});

const multicastInterface = Object.values(os.networkInterfaces())
  .flat()
  .some((i) => i && !i.internal && i.family === 'IPv4');

t.test('real multicast: announced printers are found and their URI reaches the printer', { skip: multicastInterface ? false : 'no non-loopback IPv4 interface: multicast DNS has nowhere to go' }, async (t) => {
  const printer = await startIppPrinter({ capture: false, name: 'Discovered Printer' });
  t.teardown(() => printer.stop());
  // ippeveprinter -n localhost listens on loopback only; the announced port relays from every address, as a network printer would listen.
  const relay = await startTcpProxy(printer.port, '0.0.0.0');
  t.teardown(() => relay.close());
  const tag = randomBytes(3).toString('hex');
  const uuid = randomUUID();
  const announcer = new Bonjour();
  t.teardown(() => new Promise<void>((resolve) => announcer.unpublishAll(() => announcer.destroy(() => resolve()))));
  const txt = { rp: 'ipp/print', ty: 'Praxisbox Test', pdl: 'application/pdf,image/pwg-raster', UUID: uuid, Color: 'F', Duplex: 'F' };
  announcer.publish({ name: `Testdrucker ${tag}`, type: 'ipp', port: relay.port, txt, probe: false });
  announcer.publish({ name: `Testdrucker ${tag}`, type: 'ipps', port: relay.port, txt, probe: false });
  announcer.publish({ name: `Nur IPP ${tag}`, type: 'ipp', port: relay.port, txt: { ...txt, UUID: randomUUID() }, probe: false });

  const found = await discoverPrinters({ durationMs: 2_000 });
  const both = found.filter((p) => p.name === `Testdrucker ${tag}`);
  t.equal(both.length, 1, 'ipp and ipps of one printer are one entry');
  t.match(both[0], { secure: true, uuid, acceptsPdf: true, makeAndModel: 'Praxisbox Test', color: false, duplex: false, port: relay.port });
  const plain = found.find((p) => p.name === `Nur IPP ${tag}`);
  t.match(plain?.uri, new RegExp(`^ipp://\\d+\\.\\d+\\.\\d+\\.\\d+:${relay.port}/ipp/print$`));
  const host = new URL(plain?.uri ?? 'ipp://x').hostname;
  t.ok(net.isIPv4(host), 'an address, not a .local name the box may not resolve');
  const client = new IppClient({ printer: { uri: plain?.uri ?? '' }, timeouts: { queryMs: 3_000 } });
  t.teardown(() => client.close());
  t.equal((await client.getCapabilities()).name, 'Discovered Printer');
});
