import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Agent } from '../../agent/main.js';
import { startTestAgent } from '../helpers/test-agent.js';
import { tempDir } from '../helpers/fixtures.js';
import { WebClient, request } from './web-client.js';
import { boxSetupCode, GOOD_PASSWORD } from './web-agent.js';

const run = promisify(execFile);

/** A box-mode agent (PRAXISBOX_BOX=1) on `dir`, HTTPS and redirect on free loopback ports. */
async function startBoxAgent(dir: string): Promise<{ agent: Agent; web: Record<string, unknown> }> {
  const { agent } = await startTestAgent({ PRAXISBOX_BOX: '1', PRAXISBOX_WEB_REDIRECT_PORT: '0' }, { dir, config: { web: { bind: '127.0.0.1' } } });
  const web = (await agent.status()).modules.find((m) => m.name === 'web')?.details ?? {};
  return { agent, web };
}

t.test('box mode: HTTPS with the generated certificate, redirect, Secure cookie, same certificate after restart', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-web-https-');
  t.teardown(cleanup);
  let { agent, web } = await startBoxAgent(dir);
  t.teardown(() => agent.stop());

  const base = String(web['url']);
  t.match(base, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  t.match(web['redirectUrl'], /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const fingerprint = String(web['fingerprint']);
  t.match(fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);

  const certFile = path.join(dir, 'web', 'tls-cert.pem');
  const keyFile = path.join(dir, 'web', 'tls-key.pem');
  for (const f of [certFile, keyFile]) t.equal((await fs.stat(f)).mode & 0o777, 0o600, `${path.basename(f)} is 0600`);
  const cert = await fs.readFile(certFile, 'utf8');

  await t.test('the certificate, as openssl sees it', async (t) => {
    const fp = await run('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
    t.equal(fp.stdout.trim().split('=')[1], fingerprint, 'status shows the SHA-256 fingerprint openssl computes');
    const text = (await run('openssl', ['x509', '-in', certFile, '-noout', '-text'])).stdout;
    t.match(text, /id-ecPublicKey/);
    t.match(text, /prime256v1|P-256/);
    t.match(text, /ecdsa-with-SHA256/);
    t.match(text, /IP Address:127\.0\.0\.1/);
    t.match(text, /TLS Web Server Authentication/);
    const key = (await run('openssl', ['pkey', '-in', keyFile, '-noout', '-text'])).stdout;
    t.match(key, /prime256v1|P-256/, 'the key is ECDSA P-256');
  });

  await t.test('HTTPS verified against exactly this certificate', async (t) => {
    await t.rejects(request(`${base}api/session`), 'a client without the certificate refuses it (self-signed)');
    const client = new WebClient(base, cert);
    const session = await client.session();
    t.match(session, { setupDone: false, https: true, fingerprint, boxId: String });
    const res = await request(`${base}api/session`, { ca: cert });
    t.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    t.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);

    const setup = await client.post('/api/setup', { setupCode: await boxSetupCode(dir), password: GOOD_PASSWORD });
    t.equal(setup.status, 200);
    const cookie = setup.headers['set-cookie']?.[0] ?? '';
    t.match(cookie, /^__Host-pbx_session=/);
    t.match(cookie, /; Secure/);
    t.match(cookie, /HttpOnly/);
    t.match(cookie, /SameSite=Strict/);
    t.equal((await client.get('/api/status')).status, 200);
  });

  await t.test('plain HTTP only redirects', async (t) => {
    const redirect = new URL(String(web['redirectUrl']));
    const httpsPort = new URL(base).port;
    const withPort = await request(`${redirect.origin}/einstellungen/drucker?x=1`);
    t.equal(withPort.status, 308);
    t.equal(withPort.headers['location'], `https://127.0.0.1:${httpsPort}/einstellungen/drucker?x=1`);
    const viaPort80 = await request(`${redirect.origin}/`, { headers: { host: 'praxisbox.local' } });
    t.equal(viaPort80.headers['location'], 'https://praxisbox.local/', 'reached on port 80 (nftables): https on 443');
    const post = await request(`${redirect.origin}/api/login`, { method: 'POST', body: { password: 'x' } });
    t.equal(post.status, 308, 'an API call over HTTP is redirected, not served');
    t.notOk(post.text.includes('status'), 'no API answer over HTTP');
    const bad = await request(`${redirect.origin}/`, { headers: { host: 'evil.example/x' } });
    t.equal(bad.status, 400, 'a malformed Host gets no redirect');
    const slashes = await request(`${redirect.origin}//evil.example/`);
    t.equal(slashes.headers['location'], `https://127.0.0.1:${httpsPort}/`, 'no protocol-relative open redirect');
  });

  await t.test('a restart reuses the certificate; the admin password and audit survive, sessions do not', async (t) => {
    await agent.stop();
    ({ agent, web } = await startBoxAgent(dir));
    t.equal(web['fingerprint'], fingerprint, 'same fingerprint');
    t.equal(await fs.readFile(certFile, 'utf8'), cert, 'same certificate file');
    const client = new WebClient(String(web['url']), cert);
    t.match(await client.session(), { setupDone: true, loggedIn: false });
    t.equal((await client.post('/api/login', { password: GOOD_PASSWORD })).status, 200);
  });

  await t.test('an unusable certificate is replaced (and kept aside), loudly', async (t) => {
    await agent.stop();
    await fs.writeFile(keyFile, 'garbage', { mode: 0o600 });
    ({ agent, web } = await startBoxAgent(dir));
    t.not(web['fingerprint'], fingerprint, 'new certificate');
    t.ok((await fs.readdir(path.join(dir, 'web'))).some((f) => f.startsWith('tls-key.pem.unusable-')), 'old pair kept aside');
    const client = new WebClient(String(web['url']), await fs.readFile(certFile, 'utf8'));
    t.match(await client.session(), { fingerprint: web['fingerprint'] });
  });
});
