import t from 'tap';
import { CardsModule, type CardsModuleDeps } from '../../agent/cards/cards-module.js';
import { cardsConfig, type CardsConfig } from '../../agent/cards/cards-config.js';
import { virtualCard } from '../../agent/cards/sim/virtual-cards.js';
import { describeCommand } from '../../agent/cards/apdu.js';
import { startUsbHints } from '../../agent/cards/usb-hints.js';
import type { CardEventMap } from '../../agent/cards/card-events.js';
import { systemClock } from '../../agent/core/clock.js';
import { EventBus } from '../../agent/core/bus.js';
import type { AgentEvents } from '../../agent/core/events.js';
import { ErrorCode, PraxisboxError } from '../../agent/core/errors.js';
import { isPatientData, revealDeep } from '../../agent/core/patient-data.js';
import type { AppendOptions, Outbox, OutboxEvent, OutboxStats, RawOutboxEvent } from '../../agent/outbox/outbox-event.js';
import { captureLog } from '../helpers/quiet-log.js';
import { tempDir } from '../helpers/fixtures.js';
import { FakePcsc } from './fake-pcsc.js';

/** An in-memory outbox that can be told to refuse the next appends. */
class MemoryOutbox implements Outbox {
  readonly events: Array<{ type: string; data: Record<string, unknown> }> = [];
  refuse = 0;
  #waiters: Array<{ match: (e: { type: string; data: Record<string, unknown> }) => boolean; resolve: () => void }> = [];

  async append(type: string, data: unknown, _options?: AppendOptions): Promise<OutboxEvent> {
    if (this.refuse > 0) {
      this.refuse -= 1;
      throw new PraxisboxError(ErrorCode.OutboxFull, 'outbox full');
    }
    const e = { type, data: revealDeep(data) as Record<string, unknown> };
    this.events.push(e);
    this.#waiters = this.#waiters.filter((w) => (w.match(e) ? (w.resolve(), false) : true));
    return { id: String(this.events.length), seq: this.events.length, type, ts: '', data };
  }

  next(type: string, terminalId: string, timeoutMs = 3_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${type} on ${terminalId}; have ${this.events.map((e) => e.type).join(', ')}`)), timeoutMs);
      this.#waiters.push({
        match: (e) => e.type === type && e.data['terminalId'] === terminalId,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  types(terminalId: string): string[] {
    return this.events.filter((e) => e.data['terminalId'] === terminalId).map((e) => e.type);
  }

  async pending(): Promise<OutboxEvent[]> {
    return [];
  }
  async pendingRaw(): Promise<RawOutboxEvent[]> {
    return [];
  }
  async ack(): Promise<void> {}
  stats(): OutboxStats {
    return { depth: 0, bytes: 0, lastSeq: 0, segments: 0, full: false, waitingProducers: 0 };
  }
  async close(): Promise<void> {}
}

function setup(t: { teardown(fn: () => unknown): void }, overrides: Record<string, unknown> = {}, deps: Partial<CardsModuleDeps> = {}) {
  const pcsc = new FakePcsc();
  const outbox = new MemoryOutbox();
  const capture = captureLog('debug');
  let config = cardsConfig({
    terminals: [{ id: 'empfang', name: 'Empfang', workstationIds: ['d1'], readerName: 'Reader 00 00' }],
    apduTimeoutMs: 300,
    removalGraceMs: 100,
    reconnectBaseMs: 50,
    reconnectMaxMs: 100,
    ...overrides,
  });
  const bus: Array<[string, unknown]> = [];
  const module = new CardsModule({
    log: capture.log,
    clock: systemClock,
    outbox,
    config: () => config,
    driver: pcsc,
    usb: false,
    bus: { emit: (type, payload) => bus.push([type, payload]) },
    ...deps,
  });
  t.teardown(() => module.stop());
  return { pcsc, outbox, module, capture, bus, setConfig: (c: CardsConfig) => (config = c) };
}

t.test('an agent bus carrying both event maps fits the bus dependency', async (t) => {
  const { log } = captureLog();
  const agentBus = new EventBus<AgentEvents & CardEventMap>(log);
  const seen: string[] = [];
  agentBus.on('test', 'card.removed', (e) => void seen.push(e.insertionId));
  const dep: CardsModuleDeps['bus'] = agentBus;
  dep?.emit('card.removed', { source: 'pcsc', terminalId: 'x', workstationIds: [], insertionId: 'i1' });
  t.same(seen, ['i1']);
});

t.test('start fails without PC/SC; stop after a failed start is safe', async (t) => {
  const { pcsc, module } = setup(t);
  pcsc.up = false;
  await t.rejects(module.start(), { code: 'DeviceUnavailable', message: 'PC/SC service not available (no-service)' });
  await module.stop();
  t.same(module.healthcheck(), { level: 'degraded', reason: 'card terminals are not monitored' });
});

t.test('events in order, person wrapped on the bus, names from the live configuration', async (t) => {
  const { pcsc, outbox, module, bus, setConfig } = setup(t);
  pcsc.attach('Reader 00 00');
  await module.start();
  t.same(module.healthcheck(), { level: 'ok' });
  pcsc.insert('Reader 00 00', virtualCard('egk'));
  await outbox.next('card.read', 'empfang');
  const read = bus.find(([type]) => type === 'card.read')?.[1] as CardEventMap['card.read'];
  t.ok(isPatientData(read.person) && isPatientData(read.coverage), 'the bus gets PatientData, never bare person data');
  pcsc.remove('Reader 00 00');
  await outbox.next('card.removed', 'empfang');
  t.same(outbox.types('empfang'), ['terminal.attached', 'card.inserted', 'card.read', 'card.removed']);

  setConfig(cardsConfig({ terminals: [{ id: 'anmeldung', name: 'Anmeldung', workstationIds: ['d9'], readerName: 'Reader' }] }));
  pcsc.insert('Reader 00 00', virtualCard('kvk'));
  await outbox.next('card.read', 'anmeldung');
  t.same(outbox.events.at(-1)?.data['workstationIds'], ['d9'], 'a renamed terminal applies to the next card, no restart');
});

t.test('a hung terminal: card.error timeout; a card pulled while hung: card-removed at once', async (t) => {
  const { pcsc, outbox, module } = setup(t);
  pcsc.attach('Reader 00 00');
  await module.start();
  pcsc.insert('Reader 00 00', virtualCard('egk'), { hang: true });
  await outbox.next('card.error', 'empfang');
  t.match(outbox.events.at(-1)?.data, { code: 'timeout', message: 'the terminal did not answer within 300 ms', cardType: 'unknown' });
  t.same(outbox.types('empfang').slice(-2), ['card.inserted', 'card.error'], 'inserted (type unknown) precedes the error');
  pcsc.remove('Reader 00 00');
  await outbox.next('card.removed', 'empfang');

  pcsc.insert('Reader 00 00', virtualCard('egk'), { hang: true });
  await new Promise((r) => setTimeout(r, 50));
  const pulledAt = Date.now();
  pcsc.remove('Reader 00 00');
  await outbox.next('card.removed', 'empfang');
  t.ok(Date.now() - pulledAt < 250, 'the removal notice ends the read without waiting for the timeout');
  t.same(outbox.types('empfang').slice(-3), ['card.inserted', 'card.error', 'card.removed']);
  t.equal(outbox.events.filter((e) => e.type === 'card.error').at(-1)?.data['code'], 'card-removed');
});

t.test('the outbox refusing for a while: events wait and keep their order', async (t) => {
  const { pcsc, outbox, module, capture } = setup(t);
  pcsc.attach('Reader 00 00');
  outbox.refuse = 3;
  await module.start();
  pcsc.insert('Reader 00 00', virtualCard('kvk'));
  await outbox.next('card.read', 'empfang', 5_000);
  t.same(outbox.types('empfang'), ['terminal.attached', 'card.inserted', 'card.read']);
  t.match(capture.text(), /outbox refuses card event terminal.attached \(OutboxFull: outbox full\); retrying/);
  await new Promise((r) => setTimeout(r, 10));
  t.equal((module.status() as { eventsWaiting: number }).eventsWaiting, 0);
});

t.test('unassigned readers are listed but not read when readUnassigned is off', async (t) => {
  const { pcsc, outbox, module } = setup(t, { readUnassigned: false });
  pcsc.attach('Stranger 00 00');
  await module.start();
  pcsc.insert('Stranger 00 00', virtualCard('egk'));
  await new Promise((r) => setTimeout(r, 100));
  t.same(outbox.types('pcsc-stranger-slot-00'), ['terminal.attached']);
  const list = (await module.commands()['terminals.list']?.handler({}, { source: 'web' })) as { terminals: Array<{ id: string; configured: boolean; connected: boolean; cardPresent: boolean }> };
  t.same(
    list.terminals.map((v) => [v.id, v.configured, v.connected, v.cardPresent]),
    [
      ['empfang', true, false, false],
      ['pcsc-stranger-slot-00', false, true, true],
    ],
  );
  t.same(module.healthcheck(), { level: 'degraded', reason: 'card terminal(s) not connected: empfang' });
});

t.test('auto mode learns that a reader cannot do extended length; re-read command', async (t) => {
  const { pcsc, outbox, module } = setup(t, { terminals: [{ id: 'empfang', readerName: 'Reader', apduMode: 'auto' }] });
  pcsc.attach('Reader 00 00');
  await module.start();
  const card = virtualCard('egk', { extendedLength: false });
  pcsc.insert('Reader 00 00', card);
  await outbox.next('card.read', 'empfang');
  const firstRead = card.log.length;
  t.equal(firstRead, 8, 'probe failed once, then short reads');
  const reply = await module.commands()['card.read']?.handler({ terminalId: 'empfang' }, { source: 'cloud' });
  t.match(reply, { terminalId: 'empfang', result: 'read', cardType: 'egk' });
  t.same(card.log.slice(firstRead).map(describeCommand).slice(0, 3), ['READ BINARY 91 00', 'SELECT 04 0c', 'READ BINARY 8c 00']);
  t.equal(card.log.length - firstRead, 7, 'the re-read goes straight to short reads (after a reset)');
  await t.rejects(module.commands()['card.read']?.handler({ terminalId: 42 }, { source: 'cloud' }) ?? Promise.resolve(), { code: 'InvalidInput' });
  pcsc.remove('Reader 00 00');
  await outbox.next('card.removed', 'empfang');
  await t.rejects(module.reread('empfang'), { code: 'CommandRejected' });
});

t.test('PC/SC lost: degraded with the reason, back without a restart', async (t) => {
  const { pcsc, outbox, module } = setup(t);
  pcsc.attach('Reader 00 00');
  await module.start();
  pcsc.crash();
  await outbox.next('terminal.detached', 'empfang');
  t.match(module.healthcheck(), { level: 'degraded', reason: /^PC\/SC service (lost|not available): / });
  t.match(module.status(), { service: 'down' });
  pcsc.restart();
  await outbox.next('terminal.attached', 'empfang');
  t.same(module.healthcheck(), { level: 'ok' });
});

t.test('USB hints: off without sysfs; with it, an attach retries PC/SC at once', async (t) => {
  const { log } = captureLog('debug');
  t.equal(await startUsbHints({ log, onChange: () => undefined, sysfsPath: '/nonexistent/usb' }), undefined);
  t.equal(await startUsbHints({ log, onChange: () => undefined, sysfsPath: '/', load: () => Promise.reject(new Error('no usb')) }), undefined);
  t.equal(await startUsbHints({ log, onChange: () => undefined, sysfsPath: '/', load: async () => ({ usb: {} }) }), undefined, 'unexpected shape');

  const listeners = new Map<string, () => void>();
  const fakeUsb = {
    usb: {
      addEventListener: (type: string, fn: () => void) => listeners.set(type, fn),
      removeEventListener: (type: string) => listeners.delete(type),
    },
  };
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const { pcsc, outbox, module } = setup(t, { reconnectBaseMs: 60_000, reconnectMaxMs: 60_000 }, { usb: { sysfsPath: dir, load: async () => fakeUsb } });
  pcsc.attach('Reader 00 00');
  await module.start();
  t.match(module.status(), { usbHints: true });
  pcsc.crash();
  await outbox.next('terminal.detached', 'empfang');
  pcsc.restart();
  listeners.get('connect')?.();
  await outbox.next('terminal.attached', 'empfang', 1_000);
  t.pass('a USB attach ended a minute of backoff');
  await module.stop();
  t.equal(listeners.size, 0, 'stop removes the USB listeners');
});
