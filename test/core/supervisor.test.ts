import t from 'tap';
import { Supervisor, overallHealth } from '../../agent/core/supervisor.js';
import { EventBus } from '../../agent/core/bus.js';
import type { AgentEvents } from '../../agent/core/events.js';
import type { AgentModule, HealthReport } from '../../agent/core/module.js';
import { systemClock } from '../../agent/core/clock.js';
import { captureLog } from '../helpers/quiet-log.js';

class Probe implements AgentModule {
  readonly calls: string[];
  failuresLeft: number;
  stopDelayMs = 0;
  startDelayMs = 0;
  health: HealthReport = { level: 'ok' };
  constructor(
    readonly name: string,
    calls: string[],
    opts: { failures?: number; critical?: boolean } = {},
  ) {
    this.calls = calls;
    this.failuresLeft = opts.failures ?? 0;
    if (opts.critical) this.critical = true;
  }
  readonly critical?: boolean;
  async start(): Promise<void> {
    this.calls.push(`start ${this.name}`);
    if (this.startDelayMs) await new Promise((r) => setTimeout(r, this.startDelayMs));
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('reader missing');
    }
  }
  async stop(): Promise<void> {
    this.calls.push(`stop ${this.name}`);
    if (this.stopDelayMs) await new Promise((r) => setTimeout(r, this.stopDelayMs));
  }
  status() {
    return { probe: this.name };
  }
  healthcheck() {
    return this.health;
  }
  commands() {
    return {};
  }
}

function make(modules: AgentModule[], opts: { disabled?: string[]; startTimeoutMs?: number } = {}) {
  const { log, text } = captureLog();
  const bus = new EventBus<AgentEvents>(log);
  const states: string[] = [];
  bus.on('test', 'module.state', (e) => void states.push(`${e.module}:${e.state}`));
  const sup = new Supervisor({
    modules,
    log,
    bus,
    clock: systemClock,
    retry: { baseMs: 20, maxMs: 80 },
    ...(opts.disabled ? { disabled: new Set(opts.disabled) } : {}),
    ...(opts.startTimeoutMs ? { startTimeoutMs: opts.startTimeoutMs } : {}),
  });
  return { sup, states, text };
}

t.test('starts in order, stops in reverse order', async (t) => {
  const calls: string[] = [];
  const { sup } = make([new Probe('a', calls), new Probe('b', calls), new Probe('c', calls)]);
  await sup.startAll();
  t.same(calls, ['start a', 'start b', 'start c']);
  calls.length = 0;
  await sup.stopAll(1000);
  t.same(calls, ['stop c', 'stop b', 'stop a']);
});

t.test('a failing module is unavailable with its reason, retried with backoff, and never blocks others', async (t) => {
  const calls: string[] = [];
  const flaky = new Probe('cards', calls, { failures: 2 });
  const { sup, states } = make([new Probe('outbox', calls), flaky, new Probe('printing', calls)]);
  await sup.startAll();
  t.equal(sup.state('cards'), 'unavailable');
  t.equal(sup.state('printing'), 'running', 'the module after it started anyway');
  t.equal(sup.reason('cards'), 'Error', 'reason names the error class (third-party text withheld)');
  const snap = await sup.snapshot();
  t.equal(snap.find((m) => m.name === 'cards')?.health.level, 'degraded');
  t.ok(snap.find((m) => m.name === 'cards')?.nextRetryAt, 'next retry time shown');
  t.equal(overallHealth(snap), 'degraded');
  for (let i = 0; i < 100 && sup.state('cards') !== 'running'; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(sup.state('cards'), 'running', 'came back after retries');
  t.equal(calls.filter((c) => c === 'start cards').length, 3);
  t.ok(states.includes('cards:unavailable') && states.includes('cards:running'));
  await sup.stopAll(1000);
});

t.test('a critical module that is unavailable makes the box fault', async (t) => {
  const calls: string[] = [];
  const { sup } = make([new Probe('outbox', calls, { failures: 1000, critical: true })]);
  await sup.startAll();
  t.equal(overallHealth(await sup.snapshot()), 'fault');
  await sup.stopAll(1000);
  t.equal(sup.state('outbox'), 'stopped', 'retries end with stop');
});

t.test('a start that hangs times out; a stop that hangs is bounded', async (t) => {
  const calls: string[] = [];
  const slowStart = new Probe('slow', calls);
  slowStart.startDelayMs = 5_000;
  const slowStop = new Probe('sticky', calls);
  slowStop.stopDelayMs = 5_000;
  const { sup } = make([slowStop, slowStart], { startTimeoutMs: 50 });
  const t0 = Date.now();
  await sup.startAll();
  t.equal(sup.state('slow'), 'unavailable');
  t.match(sup.reason('slow') ?? '', /timed out/);
  const result = await sup.stopAll(200);
  t.same(result.timedOut, ['sticky']);
  t.ok(Date.now() - t0 < 3_000, 'bounded');
});

t.test('disabled modules are shown, never started; health of running modules is reported', async (t) => {
  const calls: string[] = [];
  const sick = new Probe('printing', calls);
  sick.health = { level: 'degraded', reason: "Drucker 'Empfang' nicht erreichbar" };
  const { sup } = make([new Probe('gdt', calls), sick], { disabled: ['gdt'] });
  await sup.startAll();
  t.same(calls, ['start printing']);
  const snap = await sup.snapshot();
  t.equal(snap[0]?.state, 'disabled');
  t.same(snap[1]?.health, sick.health);
  t.same(snap[1]?.details, { probe: 'printing' });
  await sup.stopAll(1000);
});

t.test('restart stops and starts one module', async (t) => {
  const calls: string[] = [];
  const { sup } = make([new Probe('a', calls), new Probe('b', calls)]);
  await sup.startAll();
  calls.length = 0;
  await sup.restart('a');
  t.same(calls, ['stop a', 'start a']);
  t.equal(sup.state('a'), 'running');
  await sup.stopAll(1000);
});
