import { Writable } from 'node:stream';
import { CardsModule } from '../agent/cards/cards-module.js';
import { cardsConfig } from '../agent/cards/cards-config.js';
import { createPcscDriver } from '../agent/cards/driver.js';
import { PNP_NOTIFICATION, type KnownReader, type PcscContext, type PcscDriver } from '../agent/cards/pcsc-driver.js';
import { vpcdPort } from '../agent/cards/sim/vpcd-card.js';
import { VpcdSlot } from '../agent/cards/sim/vpcd-slot.js';
import type { ApduMode } from '../agent/cards/card-channel.js';
import { SHORT_READ_MAX } from '../agent/cards/apdu.js';
import { egkParts } from '../agent/cards/sim/egk-image.js';
import { simPerson } from '../agent/cards/sim/sim-person.js';
import { systemClock } from '../agent/core/clock.js';
import { createLogger } from '../agent/core/logger.js';
import { FileOutbox } from '../agent/outbox/file-outbox.js';
import type { Outbox } from '../agent/outbox/outbox-event.js';
import { percentile, round, type Bench, type BenchResult } from './bench-result.js';
import { tempDir } from '../test/helpers/fixtures.js';
import { startPcscd, VPCD_READERS } from '../test/helpers/pcscd.js';

/**
 * Card inserted → `card.read` durable in the outbox, through real pcscd + vpcd, against the floor: the
 * bare time of the same APDU sequence sent by a minimal loop through the same binding (our driver,
 * a thin shim over `smartcard`). Both start at PC/SC's insertion notice (pcscd's 400 ms presence poll
 * is outside both) and both include SCardConnect. They run side by side in the same run — the module
 * on vpcd slot 0, the floor on slot 1 — so machine noise hits both alike. The virtual cards run in
 * worker threads (see vpcd-card-thread.ts for why).
 */
const MODULE_READER = VPCD_READERS[0];
const FLOOR_READER = VPCD_READERS[1];

interface Teardown {
  fns: Array<() => unknown>;
  teardown(fn: () => unknown): void;
}

const quiet = (): Writable => new Writable({ write: (_c, _e, cb) => cb() });

/** Waits on its own context until `reader` reports a card (present) or no card (absent). */
async function waitFor(ctx: PcscContext, reader: string, present: boolean, known: Map<string, number>): Promise<number> {
  for (;;) {
    const state = known.get(reader) ?? 0;
    const r = await ctx.waitForChange([{ name: reader, state }, { name: PNP_NOTIFICATION, state: known.get(PNP_NOTIFICATION) ?? 0 }], 10_000);
    if (r === 'timeout') throw new Error(`no change on ${reader} within 10 s`);
    if (r === 'cancelled') throw new Error('cancelled');
    for (const s of r) known.set(s.name, s.state);
    const mine = r.find((s) => s.name === reader);
    if (mine && mine.present === present && mine.changed) return performance.now();
  }
}

/** The floor: connect and send `apdus`, nothing else. */
async function floorOnce(driver: PcscDriver, ctx: PcscContext, card: VpcdSlot, apdus: Uint8Array[], known: Map<string, number>): Promise<number> {
  const inserted = waitFor(ctx, FLOOR_READER, true, known);
  await card.insert({ type: 'egk' });
  const t0 = await inserted;
  const session = await driver.establish();
  const c = await session.connect(FLOOR_READER);
  for (const apdu of apdus) await c.transmit(apdu, 0x10002);
  const elapsed = performance.now() - t0;
  c.disconnect();
  session.close();
  const removed = waitFor(ctx, FLOOR_READER, false, known);
  await card.remove();
  await removed;
  return elapsed;
}

/** Wraps the driver to timestamp the insertion notice the module's monitor receives. */
function noticing(driver: PcscDriver, onInserted: (at: number) => void): PcscDriver {
  return {
    async establish() {
      const ctx = await driver.establish();
      return {
        readers: () => ctx.readers(),
        cancel: () => ctx.cancel(),
        connect: (r) => ctx.connect(r),
        close: () => ctx.close(),
        async waitForChange(known: readonly KnownReader[], timeoutMs: number) {
          const r = await ctx.waitForChange(known, timeoutMs);
          if (Array.isArray(r) && r.some((s) => s.name === MODULE_READER && s.changed && s.present)) onInserted(performance.now());
          return r;
        },
      };
    },
  };
}

async function run(mode: ApduMode, insertions: number): Promise<{ module: number[]; floor: number[]; decode: number[]; apdus: number; sameSequence: boolean; errors: string[] }> {
  const { dir, cleanup } = await tempDir('praxisbox-bench-cards-');
  const log = createLogger({ level: 'silent', destination: quiet() });
  const store = await FileOutbox.open({ dir, maxBytes: 1 << 30, segmentBytes: 8 << 20, clock: systemClock, log });
  let noticeAt = 0;
  let durable: ((outcome: { at: number; type: string; code?: unknown; readMs?: unknown }) => void) | undefined;
  const outbox: Outbox = {
    append: async (type, data, options) => {
      const e = await store.append(type, data, options);
      if (type === 'card.read' || type === 'card.error') {
        const field = (k: string): unknown => (typeof data === 'object' && data !== null ? Reflect.get(data, k) : undefined);
        durable?.({ at: performance.now(), type, code: field('code'), readMs: field('readMs') });
      }
      return e;
    },
    pending: (a, l) => store.pending(a, l),
    pendingRaw: (a, l) => store.pendingRaw(a, l),
    ack: (s) => store.ack(s),
    stats: () => store.stats(),
    close: () => store.close(),
  };
  const driver = createPcscDriver();
  const config = cardsConfig({ terminals: [{ id: 'bench', readerName: MODULE_READER, apduMode: mode }], readUnassigned: false, usbHints: false });
  const module = new CardsModule({ log, clock: systemClock, outbox, config: () => config, driver: noticing(driver, (at) => (noticeAt = at)), usb: false });
  await module.start();
  const floorCtx = await driver.establish();
  const known = new Map<string, number>(floorCtx.readers().map((r) => [r.name, r.state]));

  const errors: string[] = [];
  const moduleSlot = new VpcdSlot({ port: vpcdPort(0), reconnect: false });
  const floorSlot = new VpcdSlot({ port: vpcdPort(1), reconnect: false });
  await Promise.all([moduleSlot.ready(), floorSlot.ready()]);
  const decodeMs: number[] = [];
  const moduleOnce = async (): Promise<{ ms?: number; log: Uint8Array[] }> => {
    const card = moduleSlot;
    let timer: NodeJS.Timeout | undefined;
    const read = new Promise<{ at: number; type: string; code?: unknown; readMs?: unknown }>((resolve, reject) => {
      durable = resolve;
      timer = setTimeout(() => reject(new Error('no card.read or card.error within 10 s')), 10_000);
    });
    await card.insert({ type: 'egk' });
    const outcome = await read.finally(() => clearTimeout(timer));
    const log = await card.log();
    await card.remove();
    while (module.terminals().some((v) => v.cardPresent)) await new Promise((r) => setTimeout(r, 10));
    if (outcome.type !== 'card.read') {
      errors.push(String(outcome.code));
      return { log };
    }
    if (typeof outcome.readMs === 'number') decodeMs.push(outcome.readMs);
    return { ms: outcome.at - noticeAt, log };
  };

  const warm = await moduleOnce();
  const sequence = warm.log;
  const moduleMs: number[] = [];
  const floorMs: number[] = [];
  let sameSequence = true;
  const hex = (l: Uint8Array[]): string => l.map((a) => Buffer.from(a).toString('hex')).join(',');
  for (let i = 0; i < insertions; i++) {
    const [m, f] = await Promise.all([moduleOnce(), floorOnce(driver, floorCtx, floorSlot, sequence, known)]);
    floorMs.push(f);
    if (m.ms === undefined) continue;
    moduleMs.push(m.ms);
    if (hex(m.log) !== hex(sequence)) sameSequence = false;
    if ((i + 1) % 50 === 0) process.stderr.write(`  card-read ${mode}: ${i + 1}/${insertions}\n`);
  }
  floorCtx.close();
  await Promise.all([moduleSlot.close(), floorSlot.close()]);
  await module.stop();
  await store.close();
  await cleanup();
  return { module: moduleMs, floor: floorMs, decode: decodeMs, apdus: sequence.length, sameSequence, errors };
}

export const bench: Bench = async ({ quick }): Promise<BenchResult> => {
  const td: Teardown = { fns: [], teardown: (fn) => td.fns.push(fn) };
  const insertions = quick ? 20 : 200;
  const figures: Record<string, number | string> = { insertions };
  const targets: BenchResult['targets'] = [];
  const notes: string[] = [];
  try {
    await startPcscd(td);
    for (const mode of ['short', 'extended'] as const) {
      const r = await run(mode, insertions);
      const p50 = percentile(r.module, 50);
      const p99 = percentile(r.module, 99);
      const f50 = percentile(r.floor, 50);
      const f99 = percentile(r.floor, 99);
      Object.assign(figures, {
        [`${mode}.apdusPerRead`]: r.apdus,
        [`${mode}.moduleP50Ms`]: round(p50, 1),
        [`${mode}.moduleP99Ms`]: round(p99, 1),
        [`${mode}.floorP50Ms`]: round(f50, 1),
        [`${mode}.floorP99Ms`]: round(f99, 1),
        [`${mode}.ratioP50`]: round(p50 / f50, 3),
        [`${mode}.ratioP99`]: round(p99 / f99, 3),
        [`${mode}.floorMsPerApdu`]: round(f50 / r.apdus, 1),
        // Notice → record decoded (module clock, ms resolution): the rest of the module's time is the durable append.
        [`${mode}.moduleDecodedP50Ms`]: percentile(r.decode, 50),
        [`${mode}.moduleDecodedP99Ms`]: percentile(r.decode, 99),
      });
      targets.push({ what: `${mode}: p50 ≤ 1.3 × floor`, met: p50 <= 1.3 * f50 }, { what: `${mode}: p99 ≤ 1.3 × floor`, met: p99 <= 1.3 * f99 });
      if (!r.sameSequence) notes.push(`${mode}: the module's APDU sequence varied between insertions`);
      figures[`${mode}.readErrors`] = r.errors.length;
      if (r.errors.length > 0) notes.push(`${mode}: card.error instead of card.read: ${r.errors.join(', ')}`);
    }
    notes.push(
      'start: PC/SC insertion notice; end: card.read fsynced in the outbox (module) / last response (floor); both include SCardConnect',
      'short = Le ≤ 0xFC (default; works on every reader), extended = one READ BINARY per file (per-terminal opt-in)',
    );
    // The plan of the domain notes, taken literally: length and offset headers read on their own.
    const parts = egkParts(simPerson(), 'egk');
    const naive = 1 + 1 + 1 + Math.ceil(parts.pdGzip.length / SHORT_READ_MAX) + 1 + Math.ceil(parts.vdGzip.length / SHORT_READ_MAX);
    figures['naivePlanApdus'] = naive;
    notes.push(`a plan reading the PD length and VD offsets separately needs ${naive} APDUs (without EF.Version2) for the same card`);
  } finally {
    for (const fn of td.fns.reverse()) await fn();
  }
  return { name: 'card-read', figures, targets, notes };
};
