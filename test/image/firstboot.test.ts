import t from 'tap';
import { loadOrCreateCertificate } from '../../agent/web/tls-cert.js';
import { captureLog } from '../helpers/quiet-log.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/fixtures.js';
import { loadOrCreateIdentity } from '../../agent/core/identity.js';

/**
 * The image's first-boot script against a directory standing in for the box's root: what it writes
 * must be what the agent itself would accept as its identity (no second format), and the TLS
 * certificate and hostname follow from the box id.
 */
const script = path.join(repoRoot, 'image-build', 'files', 'praxisbox-firstboot');

function firstboot(root: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(script, [], { env: { ...process.env, PRAXISBOX_FIRSTBOOT_ROOT: root }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function fakeRoot(): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir('praxisbox-firstboot-');
  await fs.mkdir(path.join(dir, 'etc'));
  await fs.writeFile(path.join(dir, 'etc/hostname'), 'praxisbox\n');
  await fs.writeFile(path.join(dir, 'etc/hosts'), '127.0.0.1\tlocalhost\n127.0.1.1\tpraxisbox\n');
  return { root: dir, cleanup };
}

t.test('first boot creates an identity the agent accepts, hostname and certificate from the box id', async (t) => {
  const { root, cleanup } = await fakeRoot();
  t.teardown(cleanup);
  const r = firstboot(root);
  t.equal(r.code, 0, 'exits 0', { err: r.err });
  const state = path.join(root, 'var/lib/praxisbox');
  const files = { identityFile: path.join(state, 'identity.json'), secretFile: path.join(state, 'device-secret') };
  t.equal(statSync(files.secretFile).mode & 0o777, 0o600, 'device secret 0600');
  t.equal(statSync(files.identityFile).mode & 0o777, 0o600, 'identity 0600');
  t.equal(statSync(state).mode & 0o777, 0o700, 'state dir 0700');

  const loaded = await loadOrCreateIdentity(files, () => Date.now());
  t.equal(loaded.created, false, 'the agent loads both files instead of creating new ones');
  t.match(loaded.identity.boxId, /^pbx-[0-9a-z]{12}$/);
  t.equal(loaded.secret.derive('x').length, 32, 'the secret is usable');
  t.notMatch(r.out + r.err, (await fs.readFile(files.secretFile, 'utf8')).trim(), 'the secret is never printed');

  const name = `praxisbox-${loaded.identity.boxId.slice(-4)}`;
  t.equal((await fs.readFile(path.join(root, 'var/lib/praxisbox-box/hostname'), 'utf8')).trim(), name);
  t.equal((await fs.readFile(path.join(root, 'etc/hostname'), 'utf8')).trim(), name, '/etc/hostname follows');
  t.match(await fs.readFile(path.join(root, 'etc/hosts'), 'utf8'), new RegExp(`^127\\.0\\.1\\.1\\t${name}$`, 'm'));

  const cert = spawnSync('openssl', ['x509', '-noout', '-subject', '-ext', 'subjectAltName', '-in', path.join(state, 'web/tls-cert.pem')], { encoding: 'utf8' });
  t.equal(cert.status, 0, 'certificate parses', { err: cert.stderr });
  t.match(cert.stdout, `DNS:${name}.local`, 'certificate names praxisbox-XXXX.local');
  t.equal(statSync(path.join(state, 'web/tls-key.pem')).mode & 0o777, 0o600, 'TLS key 0600');
  const keyCheck = spawnSync('sh', ['-c', `openssl x509 -noout -pubkey -in ${state}/web/tls-cert.pem; openssl pkey -pubout -in ${state}/web/tls-key.pem`], { encoding: 'utf8' });
  const [a, b] = keyCheck.stdout.split('-----END PUBLIC KEY-----');
  t.equal(a?.trim(), `${b?.trim()}`, 'key and certificate belong together');
  const served = await loadOrCreateCertificate(path.join(state, 'web'), loaded.identity.boxId, Date.now(), captureLog().log);
  t.equal(served.created, false, 'the web module serves the first boot\'s certificate instead of making its own');
  t.ok(existsSync(path.join(root, 'var/lib/praxisbox-box/firstboot-done')), 'marker written last');
});

t.test('a second boot changes nothing but the hostname it re-applies', async (t) => {
  const { root, cleanup } = await fakeRoot();
  t.teardown(cleanup);
  t.equal(firstboot(root).code, 0);
  const state = path.join(root, 'var/lib/praxisbox');
  const before = await Promise.all(['device-secret', 'identity.json', 'web/tls-cert.pem'].map((f) => fs.readFile(path.join(state, f), 'utf8')));
  await fs.writeFile(path.join(root, 'etc/hostname'), 'something-else\n');
  const r = firstboot(root);
  t.equal(r.code, 0);
  t.notMatch(r.out, /first boot/, 'one-time steps skipped');
  const after = await Promise.all(['device-secret', 'identity.json', 'web/tls-cert.pem'].map((f) => fs.readFile(path.join(state, f), 'utf8')));
  t.same(after, before, 'secret, identity and certificate unchanged');
  t.match(await fs.readFile(path.join(root, 'etc/hostname'), 'utf8'), /^praxisbox-[0-9a-z]{4}\n$/, 'hostname re-applied');
});

t.test('an identity that the agent wrote first is kept; a broken one stops the first boot', async (t) => {
  const { root, cleanup } = await fakeRoot();
  t.teardown(cleanup);
  const state = path.join(root, 'var/lib/praxisbox');
  const files = { identityFile: path.join(state, 'identity.json'), secretFile: path.join(state, 'device-secret') };
  const mine = await loadOrCreateIdentity(files, () => Date.now());
  const r = firstboot(root);
  t.equal(r.code, 0, { err: r.err });
  t.equal((await fs.readFile(path.join(root, 'etc/hostname'), 'utf8')).trim(), `praxisbox-${mine.identity.boxId.slice(-4)}`);
  t.equal((await loadOrCreateIdentity(files, () => Date.now())).identity.boxId, mine.identity.boxId, 'box id kept');

  const { root: root2, cleanup: cleanup2 } = await fakeRoot();
  t.teardown(cleanup2);
  await fs.mkdir(path.join(root2, 'var/lib/praxisbox'), { recursive: true });
  await fs.writeFile(path.join(root2, 'var/lib/praxisbox/identity.json'), '{"boxId": "nonsense"}\n');
  const bad = firstboot(root2);
  t.not(bad.code, 0, 'fails on an identity without a valid box id');
  t.match(bad.out + bad.err, /no valid box id/);
  t.notOk(existsSync(path.join(root2, 'var/lib/praxisbox-box/firstboot-done')), 'no marker: it runs again next boot');
});
