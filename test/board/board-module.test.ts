import t, { type Test } from 'tap';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BoardModule } from '../../agent/board/board-module.js';
import { EventBus } from '../../agent/core/bus.js';
import { CommandDispatcher } from '../../agent/core/commands.js';
import { ErrorCode } from '../../agent/core/errors.js';
import type { AgentEvents } from '../../agent/core/events.js';
import type { HealthLevel } from '../../agent/core/module.js';
import { resolvePaths } from '../../agent/core/paths.js';
import { Value } from '@sinclair/typebox/value';
import { BoardSection, type BoardConfig } from '../../agent/board/board-config.js';
import type { BoardDriver, ButtonEdge, Light } from '../../board/board.js';
import { DEFAULT_GESTURE_TIMING } from '../../board/button-gestures.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { ManualClock } from './manual-clock.js';
import { eventually } from './driver-contract.js';

/** A driver the test moves by hand: records lights, presses the button on request. */
class HandDriver implements BoardDriver {
  readonly kind = 'none' as const;
  readonly hasBlue = true;
  lights: Light[] = [];
  trouble: string | undefined;
  #handlers: ((e: ButtonEdge) => void)[] = [];
  async open(): Promise<void> {}
  async setLight(l: Light): Promise<void> {
    this.lights.push(l);
  }
  onButton(h: (e: ButtonEdge) => void): void {
    this.#handlers.push(h);
  }
  problem(): string | undefined {
    return this.trouble;
  }
  async close(): Promise<void> {}
  edge(e: ButtonEdge): void {
    for (const h of this.#handlers) h(e);
  }
}

async function setup(t: Test) {
  const { dir, cleanup } = await tempDir('praxisbox-board-');
  t.teardown(cleanup);
  const paths = resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir });
  const clock = new ManualClock();
  const { log, text } = captureLog();
  const bus = new EventBus<AgentEvents>(log);
  const dispatcher = new CommandDispatcher({ log });
  const driver = new HandDriver();
  let health: HealthLevel | Error | 'hang' = 'ok';
  let restarts = 0;
  const mod = new BoardModule({
    config: () => Value.Default(BoardSection, {}) as BoardConfig,
    health: async () => {
      if (health instanceof Error) throw health;
      if (health === 'hang') return new Promise<HealthLevel>(() => undefined);
      return health;
    },
    bus,
    dispatcher,
    clock,
    log,
    paths,
    requestRestart: (afterStop) => {
      restarts++;
      void afterStop?.();
    },
    driver: async () => driver,
    tickMs: 5_000,
  });
  dispatcher.register('board', mod.commands());
  await mod.start();
  t.teardown(() => mod.stop());
  const led = async (): Promise<string> => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    return (mod.status() as { led: string }).led;
  };
  const press = async (ms: number): Promise<void> => {
    driver.edge('down');
    clock.advance(ms);
    driver.edge('up');
    await led();
  };
  return { dir, paths, clock, bus, dispatcher, driver, mod, led, press, text, setHealth: (h: HealthLevel | Error | 'hang') => (health = h), restarts: () => restarts };
}

t.test('the LED follows the health source on module events and on the tick', async (t) => {
  const s = await setup(t);
  t.equal(await s.led(), 'ok');
  t.same(s.driver.lights.at(-1), { red: false, green: true, blue: false }, 'green on the hardware');
  s.setHealth('degraded');
  s.bus.emit('module.state', { module: 'cards', state: 'unavailable' });
  t.equal(await s.led(), 'degraded', 'a module event re-reads health at once');
  s.setHealth('fault');
  t.equal(await s.led(), 'degraded', 'no event: unchanged until the tick');
  s.clock.advance(5_000);
  t.equal(await s.led(), 'fault', 'the tick re-reads health');
  s.setHealth(new Error('snapshot failed'));
  s.bus.emit('module.health', { module: 'x', health: { level: 'ok' } });
  t.equal(await s.led(), 'fault', 'an unreadable health shows as fault');
  t.match(s.text(), /health for the status LED unavailable/);
});

t.test('pairing, updates and identify override health with precedence', async (t) => {
  const s = await setup(t);
  s.bus.emit('cloud.pairing', { state: 'pending' });
  t.equal(await s.led(), 'pairing');
  s.bus.emit('update.progress', { stage: 'downloading', version: '1.2.3' });
  t.equal(await s.led(), 'updating');
  const reply = await s.dispatcher.dispatch('board.identify', { seconds: 3 }, { source: 'cli' });
  t.equal(reply.status, 'ok');
  t.equal(await s.led(), 'updating', 'identify does not hide an update');
  s.bus.emit('update.progress', { stage: 'committed', version: '1.2.3' });
  t.equal(await s.led(), 'identify');
  s.clock.advance(3_000);
  t.equal(await s.led(), 'pairing', 'identify ends by itself');
  s.bus.emit('cloud.pairing', { state: 'paired' });
  t.equal(await s.led(), 'ok');
  t.same((await s.dispatcher.dispatch('board.identify', { seconds: 0 }, { source: 'cli' })).status, 'error', 'seconds are validated');
  const status = await s.dispatcher.run('board.status', {}, { source: 'cli' });
  t.match(status, { driver: 'none', led: 'ok', health: 'ok', pairingPending: false, updating: false, resetArmed: false });
});

t.test('a short press identifies the box and says so on the bus', async (t) => {
  const s = await setup(t);
  const seen: AgentEvents['board.identify'][] = [];
  s.bus.on('test', 'board.identify', (e) => void seen.push(e));
  await s.press(300);
  t.same(seen, [{ seconds: 10, source: 'button' }]);
  t.equal(await s.led(), 'identify');
  t.match(s.text(), /button pressed: identify/);
  s.clock.advance(10_000);
  t.equal(await s.led(), 'ok');
});

async function seedState(dir: string): Promise<void> {
  await writeFile(path.join(dir, 'config.json'), '{"version":1}');
  await writeFile(path.join(dir, 'config.json.v1.bak'), '{}');
  await writeFile(path.join(dir, 'identity.json'), '{}');
  await writeFile(path.join(dir, 'device-secret'), 'x');
  for (const d of ['cloud/local', 'web', 'outbox', 'gdt-state']) await mkdir(path.join(dir, d), { recursive: true });
  await writeFile(path.join(dir, 'cloud', 'credentials.json'), '{}');
  await writeFile(path.join(dir, 'web', 'users.json'), '{}');
  await writeFile(path.join(dir, 'outbox', 'seg-1'), 'events');
}

t.test('hold without confirmation: the confirm pattern shows, then nothing is removed', async (t) => {
  const s = await setup(t);
  await seedState(s.dir);
  s.driver.edge('down');
  s.clock.advance(DEFAULT_GESTURE_TIMING.holdMs);
  t.equal(await s.led(), 'factory-reset-confirm', 'the confirm pattern while still held');
  t.match(s.mod.status(), { resetArmed: true });
  s.driver.edge('up');
  s.clock.advance(DEFAULT_GESTURE_TIMING.confirmWindowMs);
  t.equal(await s.led(), 'ok');
  t.same((await readdir(s.dir)).sort(), ['cloud', 'config.json', 'config.json.v1.bak', 'device-secret', 'gdt-state', 'identity.json', 'outbox', 'web']);
  t.equal(s.restarts(), 0);
  t.match(s.text(), /factory reset cancelled \(no confirming press\)/);
});

t.test('hold and confirm: config, cloud pairing and web users go; identity, secret and outbox stay; then restart', async (t) => {
  const s = await setup(t);
  await seedState(s.dir);
  await s.press(DEFAULT_GESTURE_TIMING.holdMs + 500);
  s.clock.advance(1_000);
  await s.press(200);
  await eventually('reset done', () => s.text(), (x) => x.includes('factory reset done'));
  t.same((await readdir(s.dir)).sort(), ['device-secret', 'gdt-state', 'identity.json', 'outbox']);
  t.same(await readdir(path.join(s.dir, 'outbox')), ['seg-1'], 'undelivered events kept');
  t.equal(s.restarts(), 0, 'the restart waits for the reply to leave');
  s.clock.advance(250);
  t.equal(s.restarts(), 1);
});

t.test('box.factory-reset: only from the box, only with confirm: true', async (t) => {
  const s = await setup(t);
  await seedState(s.dir);
  for (const source of ['cloud', 'local-broker'] as const) {
    const r = await s.dispatcher.dispatch('box.factory-reset', { confirm: true }, { source });
    t.match(r, { status: 'error', error: { code: ErrorCode.CommandRejected } }, `refused from ${source}`);
  }
  t.match(await s.dispatcher.dispatch('box.factory-reset', {}, { source: 'cli' }), { status: 'error', error: { code: ErrorCode.InvalidInput } });
  t.match(await s.dispatcher.dispatch('box.factory-reset', { confirm: false }, { source: 'cli' }), { status: 'error', error: { code: ErrorCode.InvalidInput } });
  t.ok((await readdir(s.dir)).includes('config.json'), 'nothing removed by refused calls');
  const r = await s.dispatcher.dispatch('box.factory-reset', { confirm: true }, { source: 'cli' });
  t.match(r, { status: 'ok', data: { removed: ['config.json', 'cloud', 'web', 'config.json.v1.bak'], kept: ['identity.json', 'device-secret', 'outbox'], restarting: true } });
  const again = await s.dispatcher.dispatch('box.factory-reset', { confirm: true }, { source: 'web' });
  t.match(again, { status: 'ok', data: { removed: [] } }, 'a second reset finds nothing to remove');
});

t.test('a driver problem makes the module degraded with the reason', async (t) => {
  const s = await setup(t);
  t.same(s.mod.healthcheck(), { level: 'ok' });
  s.driver.trouble = 'button monitor (gpiomon) exited (1): gone';
  t.same(s.mod.healthcheck(), { level: 'degraded', reason: 'button monitor (gpiomon) exited (1): gone' });
});

t.test('a driver that cannot open makes start fail with its reason', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-board-');
  t.teardown(cleanup);
  const { log } = captureLog();
  const mod = new BoardModule({
    config: () => Value.Default(BoardSection, { driver: 'gpio' }) as BoardConfig,
    health: async () => 'ok',
    bus: new EventBus<AgentEvents>(log),
    dispatcher: new CommandDispatcher({ log }),
    clock: new ManualClock(),
    log,
    paths: resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir }),
    requestRestart: () => undefined,
    driver: async (config) => {
      const { GpioDriver } = await import('../../board/gpio-driver.js');
      return new GpioDriver({ options: config.gpio, env: { PATH: dir } });
    },
  });
  await t.rejects(mod.start(), { code: ErrorCode.DeviceUnavailable, message: /gpioset not found/ });
  await mod.stop();
});

t.test('a restart of the module (config change) keeps pairing and update state', async (t) => {
  const s = await setup(t);
  s.bus.emit('cloud.pairing', { state: 'pending' });
  t.equal(await s.led(), 'pairing');
  await s.mod.stop();
  t.equal(s.bus.listenerCount('cloud.pairing'), 0, 'listeners removed on stop');
  await s.mod.start();
  t.equal(await s.led(), 'pairing');
});

t.test('a confirmed reset that fails is logged and the LED returns to health', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-board-');
  t.teardown(cleanup);
  const { log, text } = captureLog();
  const clock = new ManualClock();
  const driver = new HandDriver();
  const mod = new BoardModule({
    config: () => Value.Default(BoardSection, {}) as BoardConfig,
    health: async () => 'ok',
    bus: new EventBus<AgentEvents>(log),
    dispatcher: { run: async () => Promise.reject(new Error('disk on fire')) },
    clock,
    log,
    paths: resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir }),
    requestRestart: () => t.fail('no restart after a failed reset'),
    driver: async () => driver,
  });
  await mod.start();
  t.teardown(() => mod.stop());
  driver.edge('down');
  clock.advance(DEFAULT_GESTURE_TIMING.holdMs);
  driver.edge('up');
  driver.edge('down');
  clock.advance(100);
  driver.edge('up');
  await eventually('failure logged', () => text(), (x) => x.includes('factory reset failed'));
  t.match(mod.status(), { led: 'ok', resetArmed: false });
});

t.test('a driver whose open fails is closed again', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-board-');
  t.teardown(cleanup);
  const { log } = captureLog();
  let closed = 0;
  const driver = Object.assign(new HandDriver(), {
    open: async () => Promise.reject(new Error('no panel')),
    close: async () => void closed++,
  });
  const mod = new BoardModule({
    config: () => Value.Default(BoardSection, {}) as BoardConfig,
    health: async () => 'ok',
    bus: new EventBus<AgentEvents>(log),
    dispatcher: new CommandDispatcher({ log }),
    clock: new ManualClock(),
    log,
    paths: resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir }),
    requestRestart: () => undefined,
    driver: async () => driver,
  });
  await t.rejects(mod.start(), { message: 'no panel' });
  t.equal(closed, 1);
  t.match(mod.status(), { driver: 'none', led: 'off' });
});

t.test('a health source that hangs shows fault after one tick and does not block stop', async (t) => {
  const s = await setup(t);
  t.equal(await s.led(), 'ok');
  s.setHealth('hang');
  s.bus.emit('module.state', { module: 'printing', state: 'running' });
  t.equal(await s.led(), 'ok', 'still the last value while waiting');
  s.clock.advance(5_000);
  t.equal(await s.led(), 'fault');
  t.match(s.text(), /health for the status LED unavailable: Timeout: health did not answer in time/);
  await s.mod.stop();
  t.pass('stop returned with a health read still hanging');
});
