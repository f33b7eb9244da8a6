import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import type { DeviceSecret } from '../../agent/core/identity.js';
import { setupCode, setupCodeMatches, normalizeSetupCode } from '../../agent/web/setup-code.js';
import { hashPassword, verifyPassword, passwordProblem, HashGate } from '../../agent/web/passwords.js';
import { LoginGuard } from '../../agent/web/login-guard.js';
import { SessionStore, tokensEqual } from '../../agent/web/sessions.js';
import { redirectTarget } from '../../agent/web/redirect-server.js';
import { listenPlan, WebSection } from '../../agent/web/web-config.js';
import { redactSecrets } from '../../agent/web/diagnostics.js';
import { AuditLog } from '../../agent/web/audit-log.js';
import { webMayCall, isReadOnlyCommand } from '../../agent/web/web-api.js';
import { toErrorReply, invalidInput, PraxisboxError, ErrorCode } from '../../agent/core/errors.js';
import { invalidConfig } from '../../agent/config/config-store.js';
import { defaultConfig } from '../../agent/config/validate.js';
import { tempDir } from '../helpers/fixtures.js';
import { LogRing } from '../../agent/core/log-ring.js';

const secret = (key: string): DeviceSecret => ({ derive: (purpose) => createHmac('sha256', key).update(`praxisbox:${purpose}`).digest() });
const webDefaults = defaultConfig().web;

t.test('setup code: 12 Crockford characters from the secret, forgiving input, nothing else matches', async (t) => {
  const a = setupCode(secret('a'));
  t.match(a, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
  t.equal(setupCode(secret('a')), a, 'deterministic');
  t.not(setupCode(secret('b')), a, 'another box, another code');
  t.ok(setupCodeMatches(a, secret('a')));
  t.ok(setupCodeMatches(` ${a.toLowerCase().replace(/-/g, ' ')} `, secret('a')), 'case and separators ignored');
  t.equal(normalizeSetupCode('il-O o'), '1100');
  t.notOk(setupCodeMatches(setupCode(secret('b')), secret('a')));
  t.notOk(setupCodeMatches('', secret('a')));
  t.notOk(setupCodeMatches(`${a}0`, secret('a')), 'one character more');
  t.notOk(setupCodeMatches(a.slice(0, -1), secret('a')), 'one character less');
});

t.test('passwords: scrypt round trip and the strength rule', async (t) => {
  const stored = await hashPassword('Kaffee-Tasse-Blau-42');
  t.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  t.not(await hashPassword('Kaffee-Tasse-Blau-42'), stored, 'salted');
  t.ok(await verifyPassword('Kaffee-Tasse-Blau-42', stored));
  t.notOk(await verifyPassword('Kaffee-Tasse-Blau-43', stored));
  t.notOk(await verifyPassword('x', 'plain'), 'malformed stored value');
  t.notOk(await verifyPassword('x', 'scrypt$0$8$1$AAAA$AAAA'));
  const boxId = 'pbx-abcdefghjkmn';
  for (const [pw, why] of [
    ['kurz', /mindestens 10/],
    ['x'.repeat(201), /höchstens/],
    ['MeinePraxisBox!', /praxisbox/],
    [`Box ${boxId}`, /Kennung/],
    ['abcdefghjkmn99', /Kennung/],
    ['abababababab', /zu wenigen/],
    ['1234567890', /Zeichenfolge/],
    ['Passwort2024!', /verbreitet/],
    ['willkommen1', /verbreitet/],
  ] as const) {
    t.match(passwordProblem(pw, boxId), why, `${pw.slice(0, 20)} refused`);
  }
  for (const pw of ['Kaffee-Tasse-Blau-42', 'korrekt pferd batterie heftklammer', 'Ühr3nzeit!Flur']) t.equal(passwordProblem(pw, boxId), undefined, `${pw} accepted`);
});

t.test('hash gate: bounded concurrency and queue', async (t) => {
  const gate = new HashGate(2, 1);
  let running = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  const job = (): Promise<number> =>
    new Promise((resolve) => {
      running += 1;
      peak = Math.max(peak, running);
      release.push(() => {
        running -= 1;
        resolve(1);
      });
    });
  const a = gate.run(job);
  const b = gate.run(job);
  const c = gate.run(job);
  t.equal(await gate.run(job), undefined, 'fourth: queue full');
  await new Promise((r) => setImmediate(r));
  t.equal(peak, 2);
  while (release.length > 0) {
    release.shift()?.();
    await new Promise((r) => setImmediate(r));
  }
  t.same(await Promise.all([a, b, c]), [1, 1, 1]);
  t.equal(peak, 2, 'never more than two at once');
});

t.test('login guard: lockout per address, backoff, account-wide threshold', async (t) => {
  const g = new LoginGuard(() => ({ maxFailures: 5, maxUserFailures: 20, lockoutMs: 300_000, maxExtraMs: 3_600_000, maxKeys: 3 }));
  let now = 1_000_000;
  for (let i = 0; i < 4; i++) t.same(g.fail('a', 'admin', now), { allowed: true });
  t.same(g.fail('a', 'admin', now), { allowed: false, retryAfterSeconds: 300 }, 'fifth failure: 5 min');
  t.same(g.check('b', 'admin', now), { allowed: true }, 'another address is not affected');
  now += 299_000;
  t.same(g.check('a', 'admin', now), { allowed: false, retryAfterSeconds: 1 });
  now += 1_000;
  t.same(g.check('a', 'admin', now), { allowed: true }, 'lockout over');
  for (let i = 0; i < 4; i++) g.fail('a', 'admin', now);
  t.same(g.fail('a', 'admin', now), { allowed: false, retryAfterSeconds: 600 }, 'second lockout doubles');
  now += 600_000;
  for (let i = 0; i < 5; i++) g.fail('a', 'admin', now);
  t.same(g.check('a', 'admin', now), { allowed: false, retryAfterSeconds: 1200 });
  g.succeed('a', 'admin');
  t.same(g.check('a', 'admin', now), { allowed: true }, 'success clears');

  const h = new LoginGuard(() => ({ maxFailures: 5, maxUserFailures: 8, lockoutMs: 60_000, maxExtraMs: 0, maxKeys: 100 }));
  for (let i = 0; i < 7; i++) h.fail(`ip${i}`, 'admin', 0);
  t.same(h.fail('ip7', 'admin', 0), { allowed: false, retryAfterSeconds: 60 }, 'account locked from many addresses');
  t.same(h.check('ip99', 'admin', 0), { allowed: false, retryAfterSeconds: 60 });
  t.ok(g.size <= 3, 'remembered addresses are bounded');
});

t.test('sessions: idle and absolute expiry, clear, bound', async (t) => {
  const store = new SessionStore(() => ({ idleMs: 1000, absoluteMs: 5000, maxSessions: 2 }));
  const s = store.create('admin', 0);
  t.match(s.id, /^[A-Za-z0-9_-]{43}$/);
  t.not(s.csrfToken, s.id);
  t.equal(store.get(s.id, 900)?.user, 'admin');
  t.equal(store.get(s.id, 1800)?.user, 'admin', 'idle time restarts on use');
  t.equal(store.get(s.id, 2900), undefined, 'idle expiry');
  const long = store.create('admin', 0);
  for (let now = 900; now < 5000; now += 900) t.ok(store.get(long.id, now));
  t.equal(store.get(long.id, 5400), undefined, 'absolute expiry');
  const x = store.create('admin', 0);
  const y = store.create('admin', 0);
  const z = store.create('admin', 0);
  t.equal(store.get(x.id, 1), undefined, 'oldest dropped beyond the bound');
  t.ok(store.get(y.id, 1) && store.get(z.id, 1));
  t.equal(store.clear(), 2);
  t.equal(store.get(z.id, 1), undefined);
  t.equal(store.get(undefined, 0), undefined);
  t.equal(store.get('x'.repeat(500), 0), undefined);
  t.ok(tokensEqual('abc', 'abc'));
  t.notOk(tokensEqual('abc', 'abd'));
  t.notOk(tokensEqual('abc', 'abcd'));
});

t.test('listen plan and redirect target', async (t) => {
  t.same(listenPlan(webDefaults, {}), { https: false, bind: '127.0.0.1', port: 8080 }, 'dev default');
  t.same(listenPlan(webDefaults, { PRAXISBOX_WEB_PORT: '0' }), { https: false, bind: '127.0.0.1', port: 0 });
  t.same(listenPlan(webDefaults, { PRAXISBOX_BOX: '1' }), { https: true, bind: '::', port: 8443, redirectPort: 8080 }, 'box mode');
  t.same(listenPlan({ ...webDefaults, redirectHttp: false }, { PRAXISBOX_BOX: '1' }), { https: true, bind: '::', port: 8443 });
  t.same(listenPlan({ ...webDefaults, https: 'off' }, { PRAXISBOX_BOX: '1' }), { https: false, bind: '127.0.0.1', port: 8080 });
  t.same(listenPlan({ ...webDefaults, https: 'on', bind: '10.0.0.2' }, { PRAXISBOX_WEB_PORT: 'x' }), { https: true, bind: '10.0.0.2', port: 8443, redirectPort: 8080 }, 'bad env value ignored');
  t.ok(WebSection.properties.sessionMinutes, 'section in the schema');

  t.equal(redirectTarget('box.local:8080', '/a?b=1', 8443), 'https://box.local:8443/a?b=1');
  t.equal(redirectTarget('box.local', '/', 8443), 'https://box.local/', 'port 80 (forwarded) → 443');
  t.equal(redirectTarget('192.168.1.5:80', '/', 8443), 'https://192.168.1.5/');
  t.equal(redirectTarget('[fe80::1]:8080', '/x', 8443), 'https://[fe80::1]:8443/x');
  t.equal(redirectTarget('box.local', '//evil.example/', 8443), 'https://box.local/');
  t.equal(redirectTarget(undefined, '/', 8443), undefined);
  t.equal(redirectTarget('evil.example@box', '/', 8443), undefined);
  t.equal(redirectTarget('a b', '/', 8443), undefined);
});

t.test('diagnostics redaction', async (t) => {
  const doc = { cloud: { url: 'mqtts://c', clientKeyFile: '/k', caFile: '' }, localBroker: { users: [{ name: 'pvs', passwordHash: 'scrypt$x' }] }, web: { sessionMinutes: 60 }, nested: { apiToken: 'abc', secret: 'zz', enabled: true, password: null } };
  t.same(redactSecrets(doc), {
    cloud: { url: 'mqtts://c', clientKeyFile: '[redacted]', caFile: '' },
    localBroker: { users: [{ name: 'pvs', passwordHash: '[redacted]' }] },
    web: { sessionMinutes: 60 },
    nested: { apiToken: '[redacted]', secret: '[redacted]', enabled: true, password: null },
  });
});

t.test('error replies carry field paths only for field problems', async (t) => {
  const problems = [{ path: '/outbox/maxBytes', message: 'Expected integer to be greater or equal to 1048576' }];
  t.same(toErrorReply(invalidConfig(problems)), { code: 'InvalidConfig', message: `invalid configuration:\n${problems[0]?.path}: ${problems[0]?.message}`, details: problems });
  t.same(toErrorReply(invalidInput('record 3 is bad', { record: 3 })), { code: 'InvalidInput', message: 'record 3 is bad' }, 'other details stay in the box');
  t.same(toErrorReply(new PraxisboxError(ErrorCode.InvalidInput, 'x', { details: { problems: [{ path: 1 }] } })), { code: 'InvalidInput', message: 'x' });
  t.same(toErrorReply(new Error('Mustermann')), { code: 'Internal', message: 'internal error (see the box log for details)' });
});

t.test('web command policy', async (t) => {
  t.ok(webMayCall('config.set'));
  t.ok(webMayCall('print.test'));
  t.notOk(webMayCall('web.reset-password'));
  for (const n of ['config.get', 'printers.list', 'status', 'logs.tail', 'ping', 'outbox.stats', 'config.validate', 'gdt.config.check']) t.ok(isReadOnlyCommand(n), `${n} read-only`);
  for (const n of ['config.set', 'config.replace', 'gdt.order', 'print.test', 'cloud.pair.start', 'cloud.unpair', 'printers.set-password']) t.notOk(isReadOnlyCommand(n), `${n} audited`);
});

t.test('audit log: appended 0600, rotated at the bound, tail across the rotation', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-audit-');
  t.teardown(cleanup);
  const log = new AuditLog(path.join(dir, 'web'), () => 1000);
  await Promise.all(Array.from({ length: 40 }, (_, i) => log.append({ event: 'command', command: `c${i}`, user: 'admin' }, i * 1000)));
  const files = (await fs.readdir(path.join(dir, 'web'))).sort();
  t.same(files, ['audit.1.jsonl', 'audit.jsonl']);
  for (const f of files) {
    const st = await fs.stat(path.join(dir, 'web', f));
    t.ok(st.size <= 1000, `${f} within the bound (${st.size})`);
    t.equal(st.mode & 0o777, 0o600);
  }
  const tail = await log.tail(5);
  t.same(tail.map((e) => e.command), ['c35', 'c36', 'c37', 'c38', 'c39'], 'in order, newest last');
  t.equal(tail[4]?.ts, new Date(39_000).toISOString());
  const more = await log.tail(1000);
  t.ok(more.length > 5 && more.length < 40, `rotated: ${more.length} entries kept`);
  t.equal(more.at(-1)?.command, 'c39');
});

t.test('log ring: sequence numbers for a follower', async (t) => {
  const ring = new LogRing(3);
  t.equal(ring.latest, 0);
  t.same(ring.since(0), []);
  for (let i = 1; i <= 5; i++) ring.write(`{"msg":"m${i}"}\n`);
  t.equal(ring.latest, 5);
  t.same(ring.since(3), [{ seq: 4, line: { msg: 'm4' } }, { seq: 5, line: { msg: 'm5' } }]);
  t.same(ring.since(0).map((l) => l.seq), [3, 4, 5], 'lines that fell out are skipped');
  t.same(ring.since(5), []);
  ring.resize(2);
  t.same(ring.since(0).map((l) => l.seq), [4, 5], 'still right after a resize');
});
