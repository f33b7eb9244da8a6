import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { backoffDelay, type Clock, type Timer } from '../core/clock.js';
import { describeError, ErrorCode, isPraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Outbox } from '../outbox/outbox-event.js';
import { parseGdt, type GdtParseResult } from './codec/index.js';
import { readExactly } from './attachment-reader.js';
import { collectAttachments } from './attachment-collect.js';
import { isResultCandidate, type DeviceLayout } from './device-layout.js';
import { StabilityTracker, waitUntilStable, type FileStat } from './file-stability.js';
import type { GdtConfig, GdtDeviceConfig } from './gdt-config.js';
import type { HashRegistry } from './hash-registry.js';
import { ImportCommit, type FileFacts } from './import-commit.js';
import { classifyRecords, looksIncomplete, readiness, type RejectCode } from './import-plan.js';
import type { OrderQueue } from './order-queue.js';
import { buildResultEvent } from './result-event.js';
import { resultOrderIds, receiverWarnings, masterDataPatient } from './result-orders.js';

/**
 * Takes in the files a device puts into its result folder, one at a time per device, each only
 * once it is complete (stat unchanged for `stableMs`; a file that fails to parse or looks cut off
 * also waits `incompleteWaitMs`; missing attachments wait `attachmentWaitMs`). What it takes in
 * ends as a `gdt.result` event, a 6301 answer, or a quarantined file with a `gdt.rejected` event.
 * When the outbox refuses (full, closed), the file stays where it is and is tried again later.
 */
export interface ImporterDeps {
  device: GdtDeviceConfig;
  layout: DeviceLayout;
  settings: () => GdtConfig;
  registry: HashRegistry;
  outbox: Outbox;
  orders: OrderQueue;
  /** Real paths of the folders attachments may be read from. */
  roots: readonly string[];
  clock: Clock;
  log: Logger;
  /** A 6301 answer was queued. */
  onOrdersChanged: () => void;
}

export interface ImporterStats {
  imported: number;
  answered: number;
  rejected: number;
  duplicates: number;
  lastImportAt?: string;
  outboxBlocked: boolean;
  waitingFiles: number;
}

type Step = number | undefined; // milliseconds until the next look, or done

export class ResultImporter {
  readonly #deps: ImporterDeps;
  readonly #commit: ImportCommit;
  readonly #files = new StabilityTracker();
  readonly #attachments = new StabilityTracker();
  readonly #due = new Map<string, number>();
  readonly #reimports = new Set<string>();
  #timer: Timer | undefined;
  #running = false;
  #stopped = false;
  #outboxAttempt = 0;
  #failures = new Map<string, number>();
  readonly stats: ImporterStats = { imported: 0, answered: 0, rejected: 0, duplicates: 0, outboxBlocked: false, waitingFiles: 0 };

  constructor(deps: ImporterDeps) {
    this.#deps = deps;
    this.#commit = new ImportCommit({ deviceId: deps.device.id, layout: deps.layout, registry: deps.registry, outbox: deps.outbox, log: deps.log, now: () => deps.clock.now() });
  }

  /** A watcher saw `name` change. */
  touch(name: string): void {
    if (this.#stopped || !isResultCandidate(name, this.#deps.layout)) return;
    this.#due.set(name, this.#deps.clock.now());
    this.#kick();
  }

  /** Looks at every file in the folder (start-up, poll tick, safety rescan). */
  async scan(): Promise<void> {
    if (this.#stopped) return;
    const names = (await fs.readdir(this.#deps.layout.resultDir)).filter((n) => isResultCandidate(n, this.#deps.layout));
    const now = this.#deps.clock.now();
    for (const name of names) if (!this.#due.has(name)) this.#due.set(name, now);
    this.#files.retain(new Set(names));
    if (this.#attachments.size > 1_000) this.#attachments.retain(new Set());
    this.#kick();
  }

  /** The outbox accepts again: retry what it refused, now. */
  outboxRelief(): void {
    if (!this.stats.outboxBlocked) return;
    this.#outboxAttempt = 0;
    this.stats.outboxBlocked = false;
    const now = this.#deps.clock.now();
    for (const name of this.#due.keys()) this.#due.set(name, now);
    this.#kick();
  }

  /** Marks a file moved back for a re-import (its event says so). */
  markReimport(name: string): void {
    this.#reimports.add(name);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves when no file is being processed (for stop). */
  async idle(): Promise<void> {
    while (this.#running) await new Promise((r) => setTimeout(r, 10));
  }

  #kick(): void {
    if (this.#running || this.#stopped) return;
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#running = true;
    void this.#loop().finally(() => {
      this.#running = false;
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#stopped || this.#due.size === 0) return;
    const next = Math.min(...this.#due.values());
    const delay = Math.max(0, next - this.#deps.clock.now());
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = this.#deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, delay);
  }

  async #loop(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const now = this.#deps.clock.now();
      let pick: string | undefined;
      let at = Infinity;
      for (const [name, due] of this.#due) if (due <= now && due < at) [pick, at] = [name, due];
      if (pick === undefined) break;
      this.#due.delete(pick);
      const wait = await this.#guarded(pick);
      if (wait !== undefined && !this.#stopped) this.#due.set(pick, this.#deps.clock.now() + wait);
    }
    this.stats.waitingFiles = this.#due.size;
  }

  /** One file, with unexpected failures (a read error, a full disk) retried with backoff instead of lost. */
  async #guarded(name: string): Promise<Step> {
    try {
      const step = await this.#process(name);
      this.#failures.delete(name);
      return step;
    } catch (err) {
      if (isPraxisboxError(err) && (err.code === ErrorCode.OutboxFull || err.code === ErrorCode.DeviceUnavailable)) {
        this.stats.outboxBlocked = true;
        const delay = backoffDelay(this.#outboxAttempt++, 500, 30_000);
        this.#deps.log.warn({ deviceId: this.#deps.device.id, file: name, retryInMs: delay }, `GDT file waits: ${describeError(err)}`);
        return delay;
      }
      const n = (this.#failures.get(name) ?? 0) + 1;
      this.#failures.set(name, n);
      const delay = backoffDelay(n, 1_000, 60_000);
      this.#deps.log.error({ deviceId: this.#deps.device.id, file: name, attempt: n, retryInMs: delay }, `GDT file could not be taken in: ${describeError(err)}`);
      return delay;
    }
  }

  async #process(name: string): Promise<Step> {
    const { layout, settings, registry, log, device } = this.#deps;
    const s = settings();
    const file = path.join(layout.resultDir, name);
    let st: Awaited<ReturnType<typeof fs.lstat>>;
    try {
      st = await fs.lstat(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.#files.forget(name);
      return undefined;
    }
    if (st.isDirectory()) return undefined;
    const now = this.#deps.clock.now();
    const obs = this.#files.observe(name, statOf(st), now);
    if (obs === undefined) return undefined;
    const wait = waitUntilStable(obs, now, s.stableMs);
    if (wait > 0) return wait;
    const unchanged = now - obs.since;
    const facts = { name, size: st.size, id: statId(name, st) };
    if (!st.isFile()) return this.#reject(facts, 'not-a-file', 'the entry is not a regular file (symlink or special file)');
    if (st.size > s.maxResultFileBytes) return this.#reject(facts, 'too-large', `the file is ${st.size} bytes; the limit is ${s.maxResultFileBytes}`);

    const bytes = await readStable(file, st, s.maxResultFileBytes);
    if (bytes === undefined) return s.stableMs; // changed while being read
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const fileFacts: FileFacts = { name, size: bytes.length, sha256, stat: statOf(st) };
    const key = this.#commit.keyOf(sha256);
    const known = registry.get(key);
    if (known?.state === 'done') return this.#settle(known, fileFacts);
    if (known?.state === 'pending') {
      const recovered = known.kind === 'answer' ? (this.#deps.orders.hasSource(key) ? 'appended' : 'not-appended') : await this.#commit.recoverPending(known);
      log.info({ deviceId: device.id, file: name, importId: known.importId, recovered }, `GDT import interrupted by a restart: event ${recovered}`);
      if (recovered === 'appended') {
        if (known.kind === 'answer') await registry.put({ ...known, state: 'done', at: now });
        return this.#settle({ ...known, state: 'done' }, fileFacts);
      }
      if (recovered === 'unknown') {
        log.warn({ deviceId: device.id, file: name, importId: known.importId }, 'GDT import interrupted after an append that may have been delivered already: sent again with the same importId');
      }
    }

    let parse: GdtParseResult;
    try {
      parse = parseGdt(bytes, { maxBytes: s.maxResultFileBytes });
    } catch (err) {
      const ready = readiness(true, unchanged, s.incompleteWaitMs);
      if (!ready.ready) return this.#recheck(ready.retryInMs);
      const code: RejectCode = isPraxisboxError(err) && err.code === ErrorCode.InvalidInput ? 'over-limit' : 'not-gdt';
      return this.#reject({ ...facts, id: sha256 }, code, isPraxisboxError(err) ? err.message : 'the file is not GDT');
    }
    const ready = readiness(looksIncomplete(parse), unchanged, s.incompleteWaitMs);
    if (!ready.ready) return this.#recheck(ready.retryInMs);

    const cls = classifyRecords(parse.records);
    if (cls.kind === 'reject') return this.#reject({ ...facts, id: sha256 }, cls.code, cls.message);
    if (cls.kind === 'master-data-request') return this.#answer(fileFacts, parse, cls.index);
    return this.#importResults(fileFacts, parse, cls.indexes, unchanged);
  }

  async #importResults(file: FileFacts, parse: GdtParseResult, indexes: number[], unchanged: number): Promise<Step> {
    const { device, layout, settings, orders, log, clock } = this.#deps;
    const s = settings();
    const collected = await collectAttachments({ parse, indexes, layout, roots: this.#deps.roots, settings: s, tracker: this.#attachments, now: clock.now(), unchangedMs: unchanged });
    if ('retryInMs' in collected) return collected.retryInMs;
    const orderIds = resultOrderIds(parse, indexes, orders.openOrders());
    const entry = this.#commit.plan(file, 'result', collected.paths);
    const reimport = this.#reimports.has(file.name);
    const data = buildResultEvent({
      deviceId: device.id,
      deviceName: device.name,
      importId: entry.importId,
      file: file.name,
      archiveFile: entry.archiveName,
      sha256: file.sha256,
      size: file.size,
      receivedAt: new Date(clock.now()).toISOString(),
      parse,
      indexes,
      orderIds,
      attachments: collected.outcomes,
      warnings: [...receiverWarnings(parse, indexes, device.ownGdtId), ...collected.warnings],
      reimport,
    });
    const event = await this.#commit.commitResult(entry, data);
    this.#done();
    this.#reimports.delete(file.name);
    await orders.resolve(orderIds.filter((o): o is string => o !== undefined));
    await this.#commit.archive(entry, file);
    this.stats.imported += 1;
    this.stats.lastImportAt = new Date(clock.now()).toISOString();
    log.info(
      {
        deviceId: device.id,
        file: file.name,
        importId: entry.importId,
        seq: event.seq,
        recordCount: indexes.length,
        attachments: collected.outcomes.filter((o) => o.read !== undefined).length,
        warnings: data.warnings.length,
        orderMatched: orderIds.some((o) => o !== undefined),
        charset: parse.charset,
      },
      `GDT result from device ${device.id} imported (${s.stableMs} ms stability wait)`,
    );
    this.#files.forget(file.name);
    return undefined;
  }

  async #answer(file: FileFacts, parse: GdtParseResult, index: number): Promise<Step> {
    const { orders, registry, device, log } = this.#deps;
    const order = masterDataPatient(parse, index, orders.openOrders());
    if (order === undefined) {
      return this.#reject({ name: file.name, size: file.size, id: file.sha256 }, 'no-open-order', 'master data request (6300) while no order is open for this device');
    }
    const entry = this.#commit.plan(file, 'answer', []);
    await registry.put(entry);
    await orders.enqueueMasterData(order.patient, entry.key);
    await registry.put({ ...entry, state: 'done' });
    this.#deps.onOrdersChanged();
    await this.#commit.archive(entry, file);
    this.stats.answered += 1;
    this.#done();
    log.info({ deviceId: device.id, file: file.name, orderId: order.orderId }, `GDT master data request from device ${device.id} answered (6301 queued)`);
    this.#files.forget(file.name);
    return undefined;
  }

  async #settle(entry: Parameters<ImportCommit['settleDone']>[0], file: FileFacts): Promise<Step> {
    const outcome = await this.#commit.settleDone(entry, file);
    if (outcome === 'duplicate') {
      this.stats.duplicates += 1;
      this.#deps.log.info({ deviceId: this.#deps.device.id, file: file.name, importId: entry.importId }, 'GDT file was taken in before (same content): archived without a new event');
    } else {
      this.#deps.log.info({ deviceId: this.#deps.device.id, file: file.name, importId: entry.importId }, 'GDT file taken in before a restart: move to archive finished');
    }
    this.#files.forget(file.name);
    this.#reimports.delete(file.name);
    return undefined;
  }

  async #reject(file: { name: string; size: number; id: string }, code: RejectCode, message: string): Promise<Step> {
    const quarantined = await this.#commit.reject(file, code, message);
    this.stats.rejected += 1;
    this.#done();
    this.#deps.log.warn({ deviceId: this.#deps.device.id, file: file.name, code, quarantineFile: quarantined }, `GDT file rejected: ${message}`);
    this.#files.forget(file.name);
    this.#reimports.delete(file.name);
    return undefined;
  }

  /**
   * A suspicious file is looked at again soon (not only when its wait is over): a device that was
   * merely pausing finishes it, and a poll does not notice changes of a file already scheduled.
   */
  #recheck(waitMs: number): number {
    const s = this.#deps.settings();
    return Math.min(waitMs, Math.max(s.stableMs, s.pollIntervalMs));
  }

  #done(): void {
    this.#outboxAttempt = 0;
    this.stats.outboxBlocked = false;
  }
}

function statOf(st: { size: number; mtimeMs: number; ino: number }): FileStat {
  return { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
}

/** An id for a file that is not read (too large, not a file): name and stat, stable across retries. */
function statId(name: string, st: { size: number; mtimeMs: number; ino: number }): string {
  return createHash('sha256').update(`${name}\0${st.size}\0${st.mtimeMs}\0${st.ino}`).digest('hex');
}

/** Reads a result file without following a symlink or blocking on a FIFO; undefined when it changed meanwhile. */
async function readStable(file: string, before: FileStat, maxBytes: number): Promise<Buffer | undefined> {
  const fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (!st.isFile() || st.ino !== before.ino || st.size !== before.size || st.mtimeMs !== before.mtimeMs) return undefined;
    const bytes = await readExactly(fh, st.size, maxBytes);
    return bytes !== undefined && bytes.length === st.size ? bytes : undefined;
  } finally {
    await fh.close();
  }
}
