import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { startAgent, runCli } from '../helpers/agent-process.js';
import { runCli as runCliInProcess } from '../../agent/cli/main.js';
import { tempDir } from '../helpers/fixtures.js';
import { WebClient } from './web-client.js';
import { boxSetupCode, GOOD_PASSWORD } from './web-agent.js';

const run = promisify(execFile);

/** The CLI in this process (same code as bin/praxisbox.js, without a node start per call). */
async function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (add: (s: string) => void): Writable => new Writable({ write: (c: Buffer, _e, cb) => (add(c.toString('utf8')), cb()) });
  const code = await runCliInProcess(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin: process.stdin, env });
  return { code, stdout, stderr };
}

/** `praxisbox status` shows the web URL and certificate fingerprint; `setup-code` and `web reset-password` work with and without the agent. */
t.test('praxisbox status, setup-code and web reset-password against a box-mode agent process', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-web-cli-');
  t.teardown(cleanup);
  const env = { PRAXISBOX_DATA_DIR: dir, PRAXISBOX_BOX: '1', PRAXISBOX_WEB_REDIRECT_PORT: '0' };

  const none = await cli(['setup-code'], env);
  t.equal(none.code, 1, 'no device secret yet');
  t.match(none.stderr, /start the agent once/);

  await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ web: { bind: '127.0.0.1' } }));
  const agent = await startAgent(env);
  t.teardown(() => agent.stop());

  const status = await runCli(['status'], env); // the real bin/praxisbox.js once
  const url = /Web UI: (https:\/\/127\.0\.0\.1:\d+\/)/.exec(status.stdout)?.[1];
  t.ok(url, `status shows the HTTPS URL:\n${status.stdout}`);
  t.match(status.stdout, /plain HTTP http:\/\/127\.0\.0\.1:\d+\/ redirects/);
  t.match(status.stdout, /first run: enter the setup code/);
  const fp = /Web certificate SHA-256: ([0-9A-F:]{95})/.exec(status.stdout)?.[1];
  const openssl = (await run('openssl', ['x509', '-in', path.join(dir, 'web', 'tls-cert.pem'), '-noout', '-fingerprint', '-sha256'])).stdout.trim().split('=')[1];
  t.equal(fp, openssl, 'the fingerprint in status is the certificate’s');

  const code = await cli(['setup-code'], env);
  t.equal(code.code, 0);
  t.equal(code.stdout.trim(), await boxSetupCode(dir), 'the CLI shows the code the agent accepts');

  const cert = await fs.readFile(path.join(dir, 'web', 'tls-cert.pem'), 'utf8');
  const client = new WebClient(url ?? '', cert);
  t.equal((await client.post('/api/setup', { setupCode: code.stdout.trim(), password: GOOD_PASSWORD })).status, 200);
  t.notMatch((await cli(['status'], env)).stdout, /first run/);

  const noYes = await cli(['web', 'reset-password'], env);
  t.equal(noYes.code, 2, 'reset needs --yes');
  t.equal((await client.get('/api/status')).status, 200, 'nothing reset without --yes');
  const reset = await cli(['web', 'reset-password', '--yes'], env);
  t.equal(reset.code, 0, reset.stderr);
  t.equal((await client.get('/api/status')).status, 403, 'session ended, setup required');
  t.match(await client.session(), { setupDone: false, loggedIn: false });
  t.equal((await client.post('/api/setup', { setupCode: code.stdout.trim(), password: 'Zweites-Passwort-Gelb-5' })).status, 200, 'the setup code works again');

  t.equal(await agent.stop(), 0);
  const offline = await cli(['web', 'reset-password', '--yes'], env);
  t.equal(offline.code, 0, 'works without the agent (edits the file)');
  t.same(JSON.parse(await fs.readFile(path.join(dir, 'web', 'users.json'), 'utf8')), { version: 1, users: {} });
  const audit = await fs.readFile(path.join(dir, 'web', 'audit.jsonl'), 'utf8');
  t.equal(audit.match(/"event":"password.reset"/g)?.length, 2, 'both resets audited');
  t.equal((await cli(['setup-code'], env)).stdout.trim(), code.stdout.trim(), 'setup-code without the agent');
});
