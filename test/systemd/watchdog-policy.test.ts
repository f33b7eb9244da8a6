import t from 'tap';
import { notifySettings, viewOf, WatchdogPolicy, DEFAULT_FAULT_GRACE_MS, FAULT_GRACE_VARIABLE } from '../../agent/systemd/watchdog-policy.js';
import { notifyArgs } from '../../agent/systemd/notify-transport.js';
import type { ModuleSnapshot } from '../../agent/core/supervisor.js';
import type { HealthReport, ModuleState } from '../../agent/core/module.js';
import { fixturePatientValues } from '../helpers/patient-values.js';

function mod(name: string, state: ModuleState, health: HealthReport = { level: 'ok' }): ModuleSnapshot {
  return { name, state, since: new Date(0).toISOString(), attempts: 0, health, details: {} };
}

t.test('settings: inactive without NOTIFY_SOCKET, watchdog only for this pid', async (t) => {
  t.same(notifySettings({}, 42), { faultGraceMs: DEFAULT_FAULT_GRACE_MS });
  t.same(notifySettings({ NOTIFY_SOCKET: '', WATCHDOG_USEC: '1000000' }, 42), { faultGraceMs: DEFAULT_FAULT_GRACE_MS });
  t.same(notifySettings({ NOTIFY_SOCKET: '/run/systemd/notify' }, 42), { socket: '/run/systemd/notify', faultGraceMs: DEFAULT_FAULT_GRACE_MS });
  t.equal(notifySettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '60000000' }, 42).watchdogMs, 60_000);
  t.equal(notifySettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '42' }, 42).watchdogMs, 60_000);
  t.equal(notifySettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: '60000000', WATCHDOG_PID: '41' }, 42).watchdogMs, undefined, 'inherited from a parent: not ours');
  for (const bad of ['', '0', '-5', 'abc', '1.5']) {
    t.equal(notifySettings({ NOTIFY_SOCKET: '/s', WATCHDOG_USEC: bad }, 42).watchdogMs, undefined, `WATCHDOG_USEC=${JSON.stringify(bad)}`);
  }
});

t.test('settings: the fault grace period from its variable, default on nonsense', async (t) => {
  t.equal(notifySettings({ [FAULT_GRACE_VARIABLE]: '1.5' }, 1).faultGraceMs, 1500);
  t.equal(notifySettings({ [FAULT_GRACE_VARIABLE]: '0' }, 1).faultGraceMs, 0);
  for (const bad of ['', ' ', '-1', 'soon']) t.equal(notifySettings({ [FAULT_GRACE_VARIABLE]: bad }, 1).faultGraceMs, DEFAULT_FAULT_GRACE_MS, JSON.stringify(bad));
});

t.test('view: the LED level, the critical modules that are down, a summary of names and states', async (t) => {
  const ok = viewOf([mod('config', 'running'), mod('outbox', 'running'), mod('cards', 'disabled')]);
  t.same(ok, { level: 'ok', downAtFault: [], summary: 'ok: 2 modules running' });

  const degraded = viewOf([mod('outbox', 'running'), mod('cards', 'unavailable', { level: 'degraded', reason: 'no reader' }), mod('config', 'running', { level: 'degraded', reason: 'no config' })]);
  t.equal(degraded.level, 'degraded');
  t.same(degraded.downAtFault, []);
  t.equal(degraded.summary, 'degraded: 2 modules running; cards unavailable, config degraded');

  const down = viewOf([mod('identity', 'running'), mod('outbox', 'unavailable', { level: 'fault', reason: 'EACCES' })]);
  t.equal(down.level, 'fault');
  t.same(down.downAtFault, ['outbox']);

  const full = viewOf([mod('outbox', 'running', { level: 'fault', reason: 'outbox full' })]);
  t.equal(full.level, 'fault', 'the LED is red');
  t.same(full.downAtFault, [], 'but the module runs: not a restart case');
});

t.test('view: reasons never reach the STATUS line, which stays one short line', async (t) => {
  const values = fixturePatientValues();
  t.ok(values.length > 10);
  const snapshot = values.slice(0, 20).map((v, i) => mod(`m${i}`, i % 2 ? 'unavailable' : 'running', { level: 'fault', reason: `failed for ${v}\nsecond line` }));
  const { summary } = viewOf(snapshot);
  for (const v of values) t.notOk(summary.includes(v), 'no patient value in STATUS');
  t.notOk(/[\r\n]/.test(summary));
  t.ok(summary.length <= 200, `length ${summary.length}`);
});

t.test('policy: fed while no critical module is down; withheld only after the grace period', async (t) => {
  const policy = new WatchdogPolicy(1000);
  const healthy = viewOf([mod('outbox', 'running')]);
  const down = viewOf([mod('outbox', 'unavailable', { level: 'fault' })]);
  t.same(policy.decide(healthy, 0), { feed: true });
  t.same(policy.decide(down, 100), { feed: true, graceLeftMs: 1000 });
  t.same(policy.decide(down, 1099), { feed: true, graceLeftMs: 1 });
  t.same(policy.decide(down, 1100), { feed: false, since: 100, modules: ['outbox'] });
  t.same(policy.decide(down, 5000), { feed: false, since: 100, modules: ['outbox'] });
  t.same(policy.decide(healthy, 5100), { feed: true }, 'recovery resets the episode');
  t.same(policy.decide(down, 6000), { feed: true, graceLeftMs: 1000 }, 'a new episode gets the full grace period');
});

t.test('policy: a running module at fault and degraded health are always fed', async (t) => {
  const policy = new WatchdogPolicy(0);
  t.same(policy.decide(viewOf([mod('outbox', 'running', { level: 'fault', reason: 'outbox full' })]), 0), { feed: true });
  t.same(policy.decide(viewOf([mod('cards', 'unavailable', { level: 'degraded' })]), 10_000_000), { feed: true });
  t.same(policy.decide(viewOf([mod('identity', 'starting', { level: 'fault' })]), 1), { feed: false, since: 1, modules: ['identity'] }, 'grace 0 withholds at once');
});

t.test('systemd-notify arguments', async (t) => {
  t.same(notifyArgs({ ready: true, mainPid: 7, status: 'ok: 3 modules running' }), ['--ready', '--pid=7', 'STATUS=ok: 3 modules running']);
  t.same(notifyArgs({ watchdog: true, status: 'a\nREADY=1' }), ['WATCHDOG=1', 'STATUS=a READY=1'], 'a newline cannot smuggle a second field');
  t.same(notifyArgs({ stopping: true }), ['STOPPING=1']);
});
