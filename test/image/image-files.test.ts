import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';

/**
 * The configuration the image ships, checked with the real tools: the nftables redirect (443 → 8443,
 * 80 → 8080) is loaded into a private network namespace and a connection to the privileged port must
 * reach the agent's unprivileged one. Fixed ports are fine there: the namespace is empty.
 */
const files = path.join(repoRoot, 'image-build', 'files');
const nftConf = path.join(files, 'nftables.conf');
const canNetns = process.getuid?.() === 0 && spawnSync('unshare', ['--net', 'true']).status === 0;

const probe = `
const net = require('node:net');
const serve = (port, answer) => net.createServer((c) => c.end(answer)).listen(port, '127.0.0.1');
const servers = [serve(8443, 'agent-https'), serve(8080, 'agent-http')];
const get = (port) => new Promise((resolve) => {
  const c = net.connect(port, '127.0.0.1');
  let d = '';
  c.on('data', (x) => (d += x)).on('end', () => resolve(d)).on('error', (e) => resolve(e.code));
});
setTimeout(async () => {
  console.log(JSON.stringify({ p443: await get(443), p80: await get(80), p22: await get(22) }));
  for (const s of servers) s.close();
}, 50);
`;

t.test('nftables.conf parses', { skip: canNetns ? false : 'needs root and network namespaces' }, async (t) => {
  const r = spawnSync('unshare', ['--net', 'nft', '-c', '-f', nftConf], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '');
});

t.test('443 and 80 reach the agent on 8443 and 8080, other ports are not redirected', { skip: canNetns ? false : 'needs root and network namespaces' }, async (t) => {
  const script = `ip link set lo up && nft -f "$1" && exec node -e "$2"`;
  const r = spawnSync('unshare', ['--net', 'sh', '-c', script, 'sh', nftConf, probe], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), { p443: 'agent-https', p80: 'agent-http', p22: 'ECONNREFUSED' });

  // Without the ruleset the same probe must fail: the test can tell the redirect from its absence.
  const none = spawnSync('unshare', ['--net', 'sh', '-c', `ip link set lo up && exec node -e "$1"`, 'sh', probe], { encoding: 'utf8' });
  t.same(JSON.parse(none.stdout), { p443: 'ECONNREFUSED', p80: 'ECONNREFUSED', p22: 'ECONNREFUSED' });
});

t.test('journal in RAM and capped, mDNS left to avahi', async (t) => {
  const journald = readFileSync(path.join(files, 'journald.conf'), 'utf8');
  t.match(journald, /^Storage=volatile$/m);
  t.match(journald, /^RuntimeMaxUse=\d+M$/m);
  t.match(readFileSync(path.join(files, 'resolved.conf'), 'utf8'), /^MulticastDNS=no$/m);
  t.match(readFileSync(path.join(files, '20-wired.network'), 'utf8'), /^DHCP=yes$/m);
});
