import t from 'tap';
import { startPcscd } from '../helpers/pcscd.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { RecordingOutbox, onTerminal } from './recording-outbox.js';
import { CardsModule } from '../../agent/cards/cards-module.js';
import { cardsConfig } from '../../agent/cards/cards-config.js';
import { createPcscDriver } from '../../agent/cards/driver.js';
import { vpcdPort } from '../../agent/cards/sim/vpcd-card.js';
import { VpcdSlot } from '../../agent/cards/sim/vpcd-slot.js';
import { systemClock } from '../../agent/core/clock.js';
import { EventBus } from '../../agent/core/bus.js';
import { Supervisor } from '../../agent/core/supervisor.js';
import type { AgentEvents } from '../../agent/core/events.js';

// pcscd missing at start, pcscd crashing and coming back, two readers at once — through real pcscd.

const pcscd = await startPcscd(t);
const { dir, cleanup } = await tempDir();
t.teardown(cleanup);
const capture = captureLog('debug');
const outbox = await RecordingOutbox.open(dir, capture.log);
t.teardown(() => outbox.close());
const config = cardsConfig({
  terminals: [
    { id: 'empfang', name: 'Empfang', workstationIds: ['desk-1'], readerName: 'Virtual PCD 00 00' },
    { id: 'labor', name: 'Labor', workstationIds: ['lab'], readerName: 'Virtual PCD slot 01' },
  ],
});
const module = new CardsModule({ log: capture.log, clock: systemClock, outbox, config: () => config, driver: createPcscDriver(), usb: false });
const supervisor = new Supervisor({
  modules: [module],
  log: capture.log,
  bus: new EventBus<AgentEvents>(capture.log),
  clock: systemClock,
  retry: { baseMs: 200, maxMs: 400 },
});
t.teardown(() => supervisor.stopAll(5_000));
const slots = [new VpcdSlot({ port: vpcdPort(0) }), new VpcdSlot({ port: vpcdPort(1) })] as const;
t.teardown(() => Promise.all(slots.map((s) => s.close())));
await Promise.all(slots.map((s) => s.ready()));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

t.test('pcscd missing at start: module unavailable with the reason; the rest keeps running; then it comes up', async (t) => {
  await pcscd.stop();
  await supervisor.startAll();
  t.equal(supervisor.state('cards'), 'unavailable');
  t.match(supervisor.reason('cards'), /^DeviceUnavailable: PC\/SC service not available \(no-service\)$/);
  await pcscd.start();
  await until('cards running', () => supervisor.state('cards') === 'running', 5_000);
  await outbox.next(onTerminal('terminal.attached', 'labor'), 5_000, 0);
  t.same(module.healthcheck(), { level: 'ok' });
});

t.test('pcscd killed and restarted: terminals detach, health degrades, reads work again within 5 s', async (t) => {
  const card = slots[0];
  let from = outbox.events.length;
  await card.insert({ type: 'egk' });
  const first = await outbox.next(onTerminal('card.read', 'empfang'), 10_000, from);
  t.equal(first.data['cardType'], 'egk');

  from = outbox.events.length;
  await pcscd.kill();
  await Promise.all([outbox.next(onTerminal('terminal.detached', 'labor'), 5_000, from), outbox.next(onTerminal('terminal.detached', 'empfang'), 5_000, from)]);
  const lost = outbox.events.slice(from);
  t.same(
    lost.filter((e) => e.data['terminalId'] === 'empfang').map((e) => e.type),
    ['card.removed', 'terminal.detached'],
    'per terminal: the card goes before the terminal',
  );
  t.same(lost.filter((e) => e.data['terminalId'] === 'labor').map((e) => e.type), ['terminal.detached']);
  const health = module.healthcheck();
  t.equal(health.level, 'degraded');
  t.match(health.reason, /^PC\/SC service (lost|not available): /);
  t.equal((module.status() as { service: string }).service, 'down');
  t.equal(supervisor.state('cards'), 'running', 'the module itself keeps running and recovers on its own');

  from = outbox.events.length;
  const restartedAt = Date.now();
  await pcscd.start();
  const again = await outbox.next(onTerminal('card.read', 'empfang'), 5_000, from).catch((err: unknown) => {
    process.stderr.write(capture.lines.slice(-40).join('\n') + '\n');
    throw err;
  });
  const elapsed = Date.now() - restartedAt;
  t.ok(elapsed < 5_000, `card read again ${elapsed} ms after the restart began`);
  t.equal(again.data['cardType'], 'egk');
  t.not(again.data['insertionId'], first.data['insertionId'], 'a new insertion after the restart');
  t.same(
    outbox.events.slice(from).map((e) => `${e.type} ${String(e.data['terminalId'])}`).filter((s) => !s.startsWith('card.')),
    ['terminal.attached empfang', 'terminal.attached labor'],
  );
  t.same(module.healthcheck(), { level: 'ok' });
  t.ok(card.connections >= 2, 'the virtual card reconnected to the new vpcd');
  await card.remove();
  await outbox.next(onTerminal('card.removed', 'empfang'), 5_000, from);
  t.match(capture.text(), /PC\/SC service is back/);
});

t.test('two readers at once: both cards read, each on its own terminal and workstation', async (t) => {
  const from = outbox.events.length;
  const [a, b] = slots;
  const started = Date.now();
  await Promise.all([a.insert({ type: 'egk' }), b.insert({ type: 'kvk' })]);
  const [ra, rb] = await Promise.all([outbox.next(onTerminal('card.read', 'empfang'), 10_000, from), outbox.next(onTerminal('card.read', 'labor'), 10_000, from)]);
  const both = Date.now() - started;
  t.equal(ra.data['cardType'], 'egk');
  t.same(ra.data['workstationIds'], ['desk-1']);
  t.equal(rb.data['cardType'], 'kvk');
  t.same(rb.data['workstationIds'], ['lab']);
  t.ok(both < 3_000, `both read within ${both} ms (in parallel, not one after the other)`);
  await until('both sessions finished', () => module.terminals().every((v) => v.card?.state === 'read'), 2_000);
  const list = module.terminals();
  t.same(
    list.map((v) => [v.id, v.cardPresent, v.card?.state, v.card?.cardType]),
    [
      ['empfang', true, 'read', 'egk'],
      ['labor', true, 'read', 'kvk'],
    ],
  );
  await Promise.all([a.remove(), b.remove()]);
  await Promise.all([outbox.next(onTerminal('card.removed', 'empfang'), 5_000, from), outbox.next(onTerminal('card.removed', 'labor'), 5_000, from)]);
  t.same(
    module.terminals().map((v) => [v.id, v.cardPresent, v.card]),
    [
      ['empfang', false, undefined],
      ['labor', false, undefined],
    ],
  );
});
