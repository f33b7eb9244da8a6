import { createRequire } from 'node:module';
import t from 'tap';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { discoverPrinters } from '../../agent/printing/printer-discovery.js';
import { parseVsdXml } from '../../agent/cards/vsd-xml.js';
import { parseGdt, writeGdt } from '../../agent/gdt/codec/index.js';

/**
 * The idle agent's memory budget (docs/agent.md, "Memory budget") rests on a few mechanisms that a
 * refactoring could undo without any functional test noticing: mqtt-packet's number table stays
 * unbuilt, and dependencies of features that are not in use are not loaded. This file checks each
 * mechanism directly (the RSS itself is measured by `npm run bench -- startup`).
 */

const require = createRequire(import.meta.url);
const loaded = (pkg: string): boolean => Object.keys(require.cache).some((p) => p.includes(`/node_modules/${pkg}/`));

t.test('a running agent with the cloud link up keeps the lazily loaded dependencies unloaded', async (t) => {
  // This file imports the discovery, the VSD parser and the GDT codec (so a static import of their
  // dependencies would show up here) but does not use them before the checks.
  const box = await startTestAgent();
  t.teardown(box.stop);
  await eventually('cloud link connected', () => box.agent.cloud.status()['link'] === 'connected');
  // Both ends of the embedded link have written packets by now (CONNECT, CONNACK, SUBSCRIBE, PUBLISH…).
  const numbers = require('mqtt-packet/numbers') as { cache: Record<number, Buffer> };
  const writer = require('mqtt-packet') as { writeToStream: { cacheNumbers: boolean } };
  t.equal(writer.writeToStream.cacheNumbers, false, 'mqtt-packet writes numbers without its table');
  t.equal(Object.keys(numbers.cache).length, 0, 'the 65,536-entry number table was never built');
  for (const pkg of ['bonjour-service', 'saxes', 'iconv-lite']) t.notOk(loaded(pkg), `${pkg} is not loaded at idle`);
});

t.test('the lazily loaded dependencies load on first use', async (t) => {
  parseVsdXml(Buffer.from('<?xml version="1.0" encoding="ISO-8859-15"?><a><b>x</b></a>', 'latin1'), 'EF.PD');
  t.ok(loaded('saxes'), 'saxes after the first VSD document');
  const file = writeGdt([{ fields: [{ id: '8000', value: '6310' }, { id: '3101', value: 'Müller' }] }]);
  t.equal(parseGdt(file).records[0]?.fields[1]?.value, 'Müller');
  t.ok(loaded('iconv-lite'), 'iconv-lite after the first GDT file with 8-bit bytes');
  const ac = new AbortController();
  ac.abort();
  // Discovery may find nothing or fail on a host without multicast; either way the module loaded.
  await discoverPrinters({ durationMs: 1, signal: ac.signal }).catch(() => []);
  t.ok(loaded('bonjour-service'), 'bonjour-service after the first discovery');
});
