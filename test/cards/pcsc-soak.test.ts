import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { startPcscd } from '../helpers/pcscd.js';
import { longMode, tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { RecordingOutbox, onTerminal } from './recording-outbox.js';
import { CardsModule } from '../../agent/cards/cards-module.js';
import { cardsConfig } from '../../agent/cards/cards-config.js';
import { createPcscDriver } from '../../agent/cards/driver.js';
import { vpcdPort } from '../../agent/cards/sim/vpcd-card.js';
import { VpcdSlot } from '../../agent/cards/sim/vpcd-slot.js';
import { systemClock } from '../../agent/core/clock.js';

// Insert and remove 200 times (1000 in long mode), on both vpcd slots at once: half the cards are
// pulled right after detection (mid-read), half after their card.read. Afterwards no file descriptor,
// PC/SC context, timer or heap growth may remain, and no terminal may think it still holds a card.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const pcscd = await startPcscd(t);
const { dir, cleanup } = await tempDir();
t.teardown(cleanup);
const capture = captureLog('info');
const outbox = await RecordingOutbox.open(dir, capture.log, { retain: false });
t.teardown(() => outbox.close());
const config = cardsConfig({
  terminals: [
    { id: 'a', readerName: 'Virtual PCD slot 00' },
    { id: 'b', readerName: 'Virtual PCD slot 01' },
  ],
});
const module = new CardsModule({ log: capture.log, clock: systemClock, outbox, config: () => config, driver: createPcscDriver(), usb: false });
await module.start();
t.teardown(() => module.stop());

const TOTAL = longMode ? 1000 : 200;
let reads = 0;
let errors = 0;

const slots = [new VpcdSlot({ port: vpcdPort(0), reconnect: false }), new VpcdSlot({ port: vpcdPort(1), reconnect: false })] as const;
t.teardown(() => Promise.all(slots.map((s) => s.close())));
await Promise.all(slots.map((s) => s.ready()));

async function cycles(slot: 0 | 1, terminalId: string, from: number, to: number): Promise<void> {
  const card = slots[slot];
  for (let i = from; i < to; i++) {
    const waitForRead = i % 2 === 0;
    const inserted = outbox.next(onTerminal('card.inserted', terminalId), 10_000);
    const outcome = waitForRead ? outbox.next((e) => (e.type === 'card.read' || e.type === 'card.error') && e.data['terminalId'] === terminalId, 10_000) : undefined;
    await card.insert({ type: i % 4 < 2 ? 'egk' : 'kvk' });
    await inserted;
    if (outcome) {
      const e = await outcome;
      if (e.type === 'card.read') reads += 1;
      else errors += 1;
    }
    const removed = outbox.next(onTerminal('card.removed', terminalId), 10_000);
    await card.remove();
    await removed;
  }
}

const fds = (pid: number | string): number => readdirSync(`/proc/${pid}/fd`).length;
const resources = (): string[] => process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').sort();

t.test(`${TOTAL} insertions and removals leave nothing behind`, async (t) => {
  const warmup = 10;
  await Promise.all([cycles(0, 'a', 0, warmup / 2), cycles(1, 'b', 0, warmup / 2)]);
  await new Promise((r) => setTimeout(r, 200));
  gc();
  const before = { fds: fds('self'), pcscdFds: fds(pcscd.pid ?? 0), heap: process.memoryUsage().heapUsed, resources: resources() };
  const started = Date.now();
  await Promise.all([cycles(0, 'a', warmup / 2, TOTAL / 2), cycles(1, 'b', warmup / 2, TOTAL / 2)]);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((r) => setTimeout(r, 500));
  gc();
  const after = { fds: fds('self'), pcscdFds: fds(pcscd.pid ?? 0), heap: process.memoryUsage().heapUsed, resources: resources() };
  t.comment(`${TOTAL - warmup} cycles in ${seconds.toFixed(1)} s; heap ${(before.heap / 1e6).toFixed(1)} → ${(after.heap / 1e6).toFixed(1)} MB`);

  t.equal(after.fds, before.fds, 'no file descriptor leaked in this process');
  t.equal(after.pcscdFds, before.pcscdFds, 'no PC/SC context or card handle left open in pcscd');
  t.same(after.resources, before.resources, 'no timer, socket or handle left active');
  t.ok(after.heap - before.heap < 4 * 1024 * 1024, `heap growth ${((after.heap - before.heap) / 1024).toFixed(0)} KiB stays under 4 MiB`);
  t.equal(reads + errors, TOTAL / 2, 'every waited-for insertion ended in exactly one card.read or card.error');
  t.equal(errors, 0, 'cards left in place were all read');
  t.same(
    module.terminals().map((v) => [v.id, v.connected, v.cardPresent, v.card]),
    [
      ['a', true, false, undefined],
      ['b', true, false, undefined],
    ],
    'no stale card state',
  );
  t.match(module.status(), { service: 'up', readers: 2, eventsWaiting: 0, eventsDropped: 0 });
  t.same(module.healthcheck(), { level: 'ok' });
});
