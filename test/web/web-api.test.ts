import os from 'node:os';
import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { freePort } from '../helpers/free-port.js';
import { WebClient, request } from './web-client.js';
import { boxSetupCode, webStatus, webUrl, GOOD_PASSWORD } from './web-agent.js';
import { CONTENT_SECURITY_POLICY } from '../../agent/web/security-headers.js';

/**
 * The web API over real HTTP against a whole agent: first run with the setup code, sessions,
 * CSRF, the dispatcher behind /api/commands, password change, logout and the audit log.
 */
t.test('first run, sessions, CSRF, commands, password change, audit', async (t) => {
  // A UI directory without pages: this test is about the API, and checks the page shown when the UI is not built.
  const box = await startTestAgent({ PRAXISBOX_WEB_PORT: String(await freePort()), PRAXISBOX_WEB_UI_DIR: path.join(os.tmpdir(), 'praxisbox-no-ui-here') });
  t.teardown(box.stop);
  const base = await webUrl(box);
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'dev mode: plain HTTP on loopback, actual port reported');
  const code = await boxSetupCode(box.dir);
  t.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);

  const a = new WebClient(base);
  const fresh = await a.session();
  t.match(fresh, { setupDone: false, loggedIn: false, boxId: box.boxId, version: 'test' });
  t.notOk('csrfToken' in fresh, 'no token without a session');

  await t.test('before setup every other API answers "setup required"', async (t) => {
    for (const [method, p] of [['GET', '/api/status'], ['GET', '/api/logs'], ['GET', '/api/audit'], ['GET', '/api/diagnostics'], ['POST', '/api/commands/ping'], ['POST', '/api/logout']] as const) {
      const res = await a.call(method, p, method === 'POST' ? {} : undefined);
      t.equal(res.status, 403, `${method} ${p}`);
      t.equal(res.json().error?.code, 'SetupRequired');
    }
    const login = await a.post('/api/login', { password: GOOD_PASSWORD });
    t.equal(login.status, 403);
    t.equal(login.json().error?.code, 'SetupRequired');
  });

  await t.test('setup: wrong code, weak password, then right', async (t) => {
    const wrong = await a.post('/api/setup', { setupCode: 'AAAA-BBBB-CCCC', password: GOOD_PASSWORD });
    t.equal(wrong.status, 403);
    t.match(wrong.json().error, { code: 'Unauthorized', message: /Einrichtungscode/, details: [{ path: '/setupCode' }] });
    t.equal(a.cookie, undefined, 'no session from a wrong code');

    for (const weak of ['kurz', 'praxisbox-2024!', `${box.boxId}xyz`, 'passwort123', '1234567890', 'aaaaaaaaaaaa']) {
      const res = await a.post('/api/setup', { setupCode: code, password: weak });
      t.equal(res.status, 400, `weak password refused: ${weak}`);
      t.match(res.json().error, { code: 'InvalidInput', details: [{ path: '/password', message: /Passwort/ }] });
    }
    const badShape = await a.post('/api/setup', { setupCode: code });
    t.equal(badShape.status, 400, 'schema-validated body');
    t.match(badShape.json().error, { code: 'InvalidInput', details: [{ path: '/password' }] });

    // Typed in lower case without dashes, with O for 0 and l for 1: still the code.
    const typed = code.replace(/-/g, '').toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l');
    const ok = await a.post('/api/setup', { setupCode: typed, password: GOOD_PASSWORD });
    t.equal(ok.status, 200, ok.text);
    t.match(ok.json(), { status: 'ok', data: { user: 'admin', csrfToken: String } });
    const cookie = ok.headers['set-cookie']?.[0] ?? '';
    t.match(cookie, /^pbx_session=[A-Za-z0-9_-]{43};/);
    t.match(cookie, /HttpOnly/);
    t.match(cookie, /SameSite=Strict/);
    t.match(cookie, /Path=\//);
    t.notMatch(cookie, /Secure/, 'no Secure flag over plain HTTP');
    t.match(await a.session(), { setupDone: true, loggedIn: true, user: 'admin', csrfToken: a.csrf });

    const again = await new WebClient(base).post('/api/setup', { setupCode: code, password: 'Ganz-anderes-Passwort-7' });
    t.equal(again.status, 409, 'the setup code no longer sets a password');
    t.equal(again.json().error?.code, 'AlreadySetUp');
    const users = JSON.parse(await fs.readFile(path.join(box.dir, 'web', 'users.json'), 'utf8')) as { users: { admin: { hash: string } } };
    t.match(users.users.admin.hash, /^scrypt\$32768\$8\$1\$/);
    t.notOk(JSON.stringify(users).includes(GOOD_PASSWORD));
    t.equal((await fs.stat(path.join(box.dir, 'web', 'users.json'))).mode & 0o777, 0o600);
    t.equal((await webStatus(box))['setupDone'], true);
  });

  await t.test('security headers on pages, API and errors', async (t) => {
    for (const p of ['/', '/api/session', '/api/nope', '/einstellungen/drucker']) {
      const res = await request(new URL(p, base).toString());
      t.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY, `${p}: CSP`);
      t.notMatch(String(res.headers['content-security-policy']), /unsafe-inline/);
      t.equal(res.headers['x-frame-options'], 'DENY');
      t.equal(res.headers['referrer-policy'], 'no-referrer');
      t.equal(res.headers['x-content-type-options'], 'nosniff');
      t.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
      if (p.startsWith('/api')) t.equal(res.headers['cache-control'], 'no-store', `${p}: no-store`);
    }
    const notBuilt = await request(new URL('/', base).toString());
    t.equal(notBuilt.status, 503, 'no web-ui/dist in this agent: a plain German page');
    t.match(notBuilt.text, /Weboberfläche ist in dieser Installation nicht gebaut/);
    t.notMatch(notBuilt.text, /<script|style=/);
  });

  await t.test('CSRF token required on every change', async (t) => {
    const missing = await a.post('/api/commands/ping', {}, { csrf: null });
    t.equal(missing.status, 403);
    t.equal(missing.json().error?.code, 'CsrfRejected');
    const wrong = await a.post('/api/commands/ping', {}, { csrf: 'x'.repeat(43) });
    t.equal(wrong.status, 403);
    t.equal(wrong.json().error?.code, 'CsrfRejected');
    const foreign = await a.post('/api/commands/ping', {}, { headers: { origin: 'http://evil.example' } });
    t.equal(foreign.status, 403, 'foreign Origin refused even with the token');
    const ok = await a.post('/api/commands/ping', {});
    t.equal(ok.status, 200);
    t.match(ok.json(), { status: 'ok', data: { pong: true } });
    const anon = await new WebClient(base).get('/api/status');
    t.equal(anon.status, 401, 'no session: 401');
    t.equal(anon.json().error?.code, 'Unauthorized');
  });

  await t.test('commands reach the one dispatcher; field errors carry paths', async (t) => {
    const bad = await a.post('/api/commands/config.set', { args: { path: 'outbox.maxBytes', value: 12 } });
    t.equal(bad.status, 400);
    t.match(bad.json(), { status: 'error', error: { code: 'InvalidConfig', details: [{ path: '/outbox/maxBytes', message: String }] } });
    const badArgs = await a.post('/api/commands/logs.tail', { args: { lines: 0 } });
    t.equal(badArgs.status, 400);
    t.match(badArgs.json().error, { code: 'InvalidInput', details: [{ path: '/lines' }] });
    const good = await a.post('/api/commands/config.set', { args: { path: 'box.name', value: 'Praxis Nord' } });
    t.equal(good.status, 200);
    t.same(good.json(), { status: 'ok', data: { changed: ['box'] } });
    t.equal(box.agent.deps.config.get().box.name, 'Praxis Nord', 'applied by the agent');
    const unknown = await a.post('/api/commands/no.such.thing', {});
    t.equal(unknown.status, 404);
    t.equal(unknown.json().error?.code, 'UnknownCommand');
    const denied = await a.post('/api/commands/web.reset-password', {});
    t.equal(denied.status, 403, 'the local password reset is not a web command');
    const status = await a.get('/api/status');
    t.match(status.json(), { status: 'ok', data: { boxId: box.boxId, modules: Array } });
    const logs = await a.get('/api/logs?level=info&limit=5');
    t.match(logs.json(), { status: 'ok', data: { lines: Array } });
    t.ok((logs.json().data?.['lines'] as unknown[]).length <= 5);
    const nope = await a.get('/api/nope');
    t.equal(nope.status, 404, 'unknown API path after login');
    t.equal(nope.json().error?.code, 'NotFound');
    const badQuery = await a.get('/api/logs?level=loud');
    t.equal(badQuery.status, 400);
  });

  await t.test('a change of the web section restarts the server; sessions survive it', async (t) => {
    const started = (await box.agent.supervisor.snapshot()).find((m) => m.name === 'web')?.since;
    const res = await a.post('/api/commands/config.set', { args: { path: 'web.sessionMinutes', value: 30 } });
    t.equal(res.status, 200, 'the reply arrives although the server restarts behind it');
    t.same(res.json().data, { changed: ['web'] });
    await eventually('web module restarted', async () => {
      const web = (await box.agent.supervisor.snapshot()).find((m) => m.name === 'web');
      return web?.state === 'running' && web.since !== started;
    });
    t.equal(await webUrl(box), base, 'same port (fixed in this test)');
    t.equal((await a.get('/api/status')).status, 200, 'same session after the restart');
    t.equal((await a.post('/api/commands/config.set', { args: { path: 'web.sessionMinutes', value: 60 } })).status, 200);
    await eventually('web module listening again', async () => (await webStatus(box))['url'] === base && (await a.get('/api/session').then((r) => r.status === 200, () => false)));
  });

  await t.test('password change ends every other session; old cookies are refused', async (t) => {
    const b = new WebClient(base);
    t.equal((await b.post('/api/login', { password: GOOD_PASSWORD })).status, 200);
    const oldA = { cookie: a.cookie, csrf: a.csrf };
    const oldB = { cookie: b.cookie, csrf: b.csrf };
    const wrongCurrent = await a.post('/api/password', { current: 'Nicht-das-Passwort-1', next: 'Neues-Passwort-Gruen-9' });
    t.equal(wrongCurrent.status, 400);
    t.match(wrongCurrent.json().error, { details: [{ path: '/current' }] });
    const weak = await a.post('/api/password', { current: GOOD_PASSWORD, next: 'passwort1' });
    t.match(weak.json().error, { details: [{ path: '/next' }] });
    const changed = await a.post('/api/password', { current: GOOD_PASSWORD, next: 'Neues-Passwort-Gruen-9' });
    t.equal(changed.status, 200, changed.text);
    t.not(a.cookie, oldA.cookie, 'this browser got a new session');
    t.equal((await a.get('/api/status')).status, 200, 'new session works');
    for (const [who, old] of [['other browser', oldB], ['this browser before the change', oldA]] as const) {
      const replay = new WebClient(base);
      replay.cookie = old.cookie;
      replay.csrf = old.csrf;
      t.equal((await replay.get('/api/status')).status, 401, `${who}: old cookie refused`);
      t.equal((await replay.post('/api/commands/ping', {})).status, 401);
    }
    t.equal((await new WebClient(base).post('/api/login', { password: GOOD_PASSWORD })).status, 401, 'old password no longer works');
    const c = new WebClient(base);
    t.equal((await c.post('/api/login', { password: 'Neues-Passwort-Gruen-9' })).status, 200);
    const beforeLogout = c.cookie;
    t.equal((await c.post('/api/logout', {})).status, 200);
    const replay = new WebClient(base);
    replay.cookie = beforeLogout;
    t.equal((await replay.get('/api/status')).status, 401, 'cookie from before the logout refused');
    t.equal(c.cookie, undefined, 'cookie cleared');
    t.match(await c.session(), { loggedIn: false });
  });

  await t.test('audit log: who, when, what — never values or secrets', async (t) => {
    const res = await a.get('/api/audit?limit=100');
    const entries = (res.json().data as { entries: Array<Record<string, unknown>> }).entries;
    const events = entries.map((e) => e['event']);
    for (const e of ['setup.failed', 'setup.done', 'login', 'command', 'config.changed', 'password.change-failed', 'password.changed', 'logout', 'command.denied']) {
      t.ok(events.includes(e), `audit has ${e}`);
    }
    t.match(entries.find((e) => e['event'] === 'command' && e['command'] === 'config.set' && e['ok'] === true), { user: 'admin', ip: '127.0.0.1', source: 'web', paths: ['box.name'], sections: ['box'], ts: String });
    t.match(entries.find((e) => e['event'] === 'command' && e['command'] === 'config.set' && e['ok'] === false), { code: 'InvalidConfig', paths: ['outbox.maxBytes'] });
    t.notOk(entries.some((e) => e['command'] === 'ping' || e['command'] === 'logs.tail'), 'read-only commands are not audited');
    const raw = await fs.readFile(path.join(box.dir, 'web', 'audit.jsonl'), 'utf8');
    t.equal((await fs.stat(path.join(box.dir, 'web', 'audit.jsonl'))).mode & 0o777, 0o600);
    for (const secret of [GOOD_PASSWORD, 'Neues-Passwort-Gruen-9', 'Praxis Nord', code, code.replace(/-/g, ''), 'scrypt$']) {
      t.notOk(raw.includes(secret), `audit file does not contain ${secret.slice(0, 6)}…`);
    }
  });

  await t.test('CLI-only password reset: the setup code works again', async (t) => {
    const reply = await box.agent.deps.dispatcher.dispatch('web.reset-password', {}, { source: 'cloud' });
    t.match(reply, { status: 'error', error: { code: 'CommandRejected' } }, 'not from the cloud');
    const ok = await box.agent.deps.dispatcher.dispatch('web.reset-password', {}, { source: 'cli' });
    t.match(ok, { status: 'ok', data: { reset: true } });
    t.equal((await a.get('/api/status')).status, 403, 'sessions ended; setup required again');
    const d = new WebClient(base);
    t.equal((await d.post('/api/setup', { setupCode: code, password: 'Wieder-Eingerichtet-3' })).status, 200);
  });
});

t.test('login lockout per client address, with Retry-After and backoff', async (t) => {
  const box = await startTestAgent();
  t.teardown(box.stop);
  const base = await webUrl(box);
  const admin = new WebClient(base);
  t.equal((await admin.post('/api/setup', { setupCode: await boxSetupCode(box.dir), password: GOOD_PASSWORD })).status, 200);

  const attacker = new WebClient(base, undefined, '127.0.0.2');
  for (let i = 1; i <= 4; i++) {
    const res = await attacker.post('/api/login', { password: `Falsch-geraten-${i}` });
    t.equal(res.status, 401, `failure ${i}: wrong password`);
    t.match(res.json().error, { code: 'Unauthorized', details: [{ path: '/password' }] });
  }
  const fifth = await attacker.post('/api/login', { password: 'Falsch-geraten-5' });
  t.equal(fifth.status, 429, 'fifth failure locks the address');
  const retry = Number(fifth.headers['retry-after']);
  t.ok(retry > 240 && retry <= 300, `Retry-After ${retry} s ≈ 5 min`);
  t.match(fifth.json().error, { code: 'RateLimited', message: /Zu viele Fehlversuche\. Bitte in 5 Minuten erneut versuchen\./ });
  const right = await attacker.post('/api/login', { password: GOOD_PASSWORD });
  t.equal(right.status, 429, 'even the right password is not checked while locked');
  t.ok(Number(right.headers['retry-after']) > 0);

  const elsewhere = new WebClient(base, undefined, '127.0.0.3');
  t.equal((await elsewhere.post('/api/login', { password: GOOD_PASSWORD })).status, 200, 'another address still logs in');

  // The account as a whole: 4 × loginMaxFailures from any addresses lock everyone out.
  let locked = 0;
  for (let i = 0; i < 20 && locked === 0; i++) {
    const res = await new WebClient(base, undefined, `127.0.1.${i}`).post('/api/login', { password: `Falsch-${i}-xx` });
    if (res.status === 429) locked = i + 1;
  }
  t.ok(locked > 0 && locked <= 20, `account locked after ${locked} further failures from many addresses`);
  t.equal((await new WebClient(base, undefined, '127.0.2.1').post('/api/login', { password: GOOD_PASSWORD })).status, 429, 'account lockout applies to every address');
  const audit = await fs.readFile(path.join(box.dir, 'web', 'audit.jsonl'), 'utf8');
  t.match(audit, /"event":"login.failed"/);
  t.match(audit, /"event":"login.blocked"/);
  t.notOk(audit.includes('Falsch-geraten'), 'tried passwords are not audited');
});
