import t, { type Test } from 'tap';
import { ServiceNotifier } from '../../agent/systemd/service-notifier.js';
import type { NotifyMessage, NotifyTransport } from '../../agent/systemd/notify-transport.js';
import type { NotifySettings } from '../../agent/systemd/watchdog-policy.js';
import { Supervisor } from '../../agent/core/supervisor.js';
import { EventBus } from '../../agent/core/bus.js';
import type { AgentEvents } from '../../agent/core/events.js';
import type { AgentModule, HealthReport } from '../../agent/core/module.js';
import { systemClock, type Clock } from '../../agent/core/clock.js';
import { captureLog } from '../helpers/quiet-log.js';

/** A module whose start and health check the test steers. */
class Probe implements AgentModule {
  failing = false;
  health: HealthReport | Promise<HealthReport> = { level: 'ok' };
  healthCalls = 0;
  constructor(
    readonly name: string,
    readonly critical = false,
  ) {}
  async start(): Promise<void> {
    if (this.failing) throw new Error('cannot open');
  }
  async stop(): Promise<void> {}
  status() {
    return {};
  }
  healthcheck() {
    this.healthCalls += 1;
    return this.health;
  }
  commands() {
    return {};
  }
}

/** Records what would have gone to systemd; `failing` makes delivery reject. */
class RecordingTransport implements NotifyTransport {
  readonly sent: NotifyMessage[] = [];
  failing = false;
  async send(message: NotifyMessage): Promise<void> {
    if (this.failing) throw new Error('systemd-notify failed: exit 1');
    this.sent.push(message);
  }
  count(pred: (m: NotifyMessage) => boolean | undefined): number {
    return this.sent.filter(pred).length;
  }
}

/** Real timers, a time the test sets: the grace period is checked without sleeping through it. */
function steppedClock(): Clock & { at: number } {
  const clock = { at: 0, now: () => clock.at, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
  return clock;
}

async function setup(t: Test, settings: Partial<NotifySettings>, modules: Probe[], clock: Clock = systemClock) {
  const { log, text } = captureLog();
  const supervisor = new Supervisor({ modules, log, bus: new EventBus<AgentEvents>(log), clock: systemClock, retry: { baseMs: 10, maxMs: 20 } });
  const transport = new RecordingTransport();
  const notifier = new ServiceNotifier({
    settings: { socket: '/run/test/notify', faultGraceMs: 1000, ...settings },
    transport,
    health: () => supervisor.snapshot(),
    clock,
    log,
    pid: 4242,
  });
  await supervisor.startAll();
  t.teardown(async () => {
    await notifier.stopping();
    await supervisor.stopAll(1000);
  });
  return { supervisor, transport, notifier, text };
}

t.test('without NOTIFY_SOCKET nothing is sent and nothing is scheduled', async (t) => {
  const transport = new RecordingTransport();
  const { log } = captureLog();
  const notifier = new ServiceNotifier({ settings: { faultGraceMs: 0 }, transport, health: async () => [], clock: systemClock, log, pid: 1 });
  t.notOk(notifier.active);
  await notifier.ready();
  t.equal(await notifier.round(), 'inactive');
  await notifier.stopping();
  t.same(transport.sent, []);
});

t.test('READY=1 carries the main pid and the state every module reached', async (t) => {
  const cards = new Probe('cards');
  cards.failing = true;
  const { transport, notifier } = await setup(t, {}, [new Probe('outbox', true), cards]);
  await notifier.ready();
  t.same(transport.sent, [{ ready: true, mainPid: 4242, status: 'degraded: 1 modules running; cards unavailable' }]);
  t.equal(notifier.intervalMs, undefined, 'no WATCHDOG_USEC: no watchdog');
  t.equal(await notifier.round(), 'inactive');
});

t.test('the watchdog is fed every half timeout while health rounds complete', async (t) => {
  const { transport, notifier } = await setup(t, { watchdogMs: 200 }, [new Probe('outbox', true), new Probe('gdt')]);
  t.equal(notifier.intervalMs, 100);
  t.equal(notifier.roundBoundMs, 50);
  await notifier.ready();
  await new Promise((r) => setTimeout(r, 650));
  const feeds = transport.count((m) => m.watchdog);
  t.ok(feeds >= 3 && feeds <= 7, `${feeds} feeds in 650 ms at a 100 ms period`);
  t.ok(transport.sent.filter((m) => m.watchdog).every((m) => m.status === 'ok: 2 modules running'), 'each feed carries STATUS');
  await notifier.stopping();
  const after = transport.sent.length;
  t.same(transport.sent.at(-1), { stopping: true, status: 'stopping' });
  await new Promise((r) => setTimeout(r, 250));
  t.equal(transport.sent.length, after, 'nothing after STOPPING=1');
  t.equal(await notifier.round(), 'inactive');
});

t.test('a critical module down: fed through the grace period, then withheld, fed again on recovery', async (t) => {
  const outbox = new Probe('outbox', true);
  outbox.failing = true;
  const clock = steppedClock();
  const { transport, notifier, text, supervisor } = await setup(t, { watchdogMs: 400, faultGraceMs: 60_000 }, [new Probe('identity', true), outbox], clock);
  t.equal(await notifier.round(), 'fed');
  clock.at = 59_999;
  t.equal(await notifier.round(), 'fed', 'still inside the grace period');
  t.match(text(), /critical modules down: the watchdog is fed until the grace period ends/);
  clock.at = 60_000;
  t.equal(await notifier.round(), 'withheld');
  t.equal(await notifier.round(), 'withheld');
  t.equal(transport.count((m) => m.watchdog), 2);
  const statusOnly = transport.sent.filter((m) => !m.watchdog);
  t.equal(statusOnly.length, 1, 'one STATUS line per episode');
  t.match(statusOnly[0]?.status, /^fault: .*outbox unavailable.*\(watchdog not fed: critical modules down for 60 s\)$/);
  t.match(text(), /critical modules \(outbox\) down longer than the grace period: watchdog not fed/);

  outbox.failing = false;
  await supervisor.restart('outbox');
  clock.at = 120_000;
  t.equal(await notifier.round(), 'fed', 'recovered');
  t.match(text(), /watchdog fed again/);
  t.equal(transport.sent.at(-1)?.status, 'ok: 2 modules running');
});

t.test('a hung health check stops the feed and is not called again while it hangs', async (t) => {
  const gdt = new Probe('gdt');
  const { transport, notifier, text } = await setup(t, { watchdogMs: 200 }, [new Probe('outbox', true), gdt]);
  t.equal(await notifier.round(), 'fed');
  let release!: (h: HealthReport) => void;
  gdt.health = new Promise<HealthReport>((resolve) => (release = resolve));
  const callsBefore = gdt.healthCalls;
  const started = Date.now();
  t.equal(await notifier.round(), 'late');
  t.ok(Date.now() - started < 500, 'the round gives up at its bound');
  t.equal(await notifier.round(), 'hung');
  t.equal(await notifier.round(), 'hung');
  t.equal(gdt.healthCalls, callsBefore + 1, 'no second check piles up behind the hung one');
  t.equal(transport.count((m) => m.watchdog), 1);
  t.match(text(), /health round took longer than 50 ms: watchdog not fed/);
  release({ level: 'ok' });
  gdt.health = { level: 'ok' };
  await new Promise((r) => setImmediate(r));
  t.equal(await notifier.round(), 'fed', 'fed again once the check answers');
});

t.test('a failing health source or transport is logged, never thrown', async (t) => {
  const { log, text } = captureLog();
  const transport = new RecordingTransport();
  let fail = true;
  const notifier = new ServiceNotifier({
    settings: { socket: '/x', watchdogMs: 400, faultGraceMs: 0 },
    transport,
    health: async () => {
      if (fail) throw new Error('snapshot broke');
      return [];
    },
    clock: systemClock,
    log,
    pid: 1,
  });
  t.equal(await notifier.round(), 'failed');
  t.match(text(), /health snapshot failed/);
  fail = false;
  transport.failing = true;
  t.equal(await notifier.round(), 'failed');
  t.match(text(), /could not notify systemd \(WATCHDOG\)/);
  t.equal(await notifier.round(), 'failed');
  t.equal(text().match(/could not notify systemd/g)?.length, 1, 'logged once per episode');
  transport.failing = false;
  t.equal(await notifier.round(), 'fed');
  t.match(text(), /systemd notifications delivered again/);
  transport.failing = true;
  await notifier.ready();
  await notifier.stopping();
  t.equal(transport.sent.length, 1, 'READY and STOPPING failed quietly');
  transport.failing = false;
  t.equal(await notifier.round(), 'inactive');
});
