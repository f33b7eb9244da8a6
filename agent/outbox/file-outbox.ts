import fs from 'node:fs/promises';
import path from 'node:path';
import { monotonicFactory } from 'ulid';
import { encodeFrame, FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD } from './frame.js';
import { scanSegmentRecords } from './segment-scan.js';
import { createSegment, decodeHeader, parseSegmentName, SEGMENT_HEADER_BYTES, type Segment } from './segment.js';
import { AckLog, toRanges } from './ack-log.js';
import { CapacityGate } from './capacity-gate.js';
import type { AppendOptions, Outbox, OutboxEvent, OutboxStats, RawOutboxEvent } from './outbox-event.js';
import { ErrorCode, PraxisboxError, describeError, invalidInput } from '../core/errors.js';
import { revealDeep } from '../core/patient-data.js';
import { ensurePrivateDir, syncDir } from '../core/durable-file.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';

export interface FileOutboxOptions {
  dir: string;
  /** Cap on bytes of unacknowledged events; beyond it producers get backpressure. */
  maxBytes: number;
  /** Roll over to a new segment file past this size. */
  segmentBytes: number;
  clock: Clock;
  log: Logger;
  onAppended?: (seq: number, type: string) => void;
  onPressure?: (full: boolean) => void;
}

interface Entry {
  seq: number;
  segment: Segment;
  /** Offset of the payload (after the frame header) in the segment file. */
  offset: number;
  length: number;
  ts: string;
  id: string;
  type: string;
}

interface Queued {
  type: string;
  dataJson: string;
  bytes: number;
  resolve: (event: OutboxEvent) => void;
  reject: (err: unknown) => void;
  data: unknown;
}

const TYPE_PATTERN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$/;
/** Envelope bytes around `data` (id, seq, type, ts and JSON punctuation), for capacity accounting. */
const ENVELOPE_ESTIMATE = 120;
const ACK_SYNC_INTERVAL_MS = 1_000;
const ACK_LOG_REWRITE_BYTES = 64 * 1024;

/**
 * The durable outbox: append-only segment files, group commit (every batch of appends that arrives
 * while the previous fsync runs shares the next one), deletion on acknowledgement. An `append`
 * resolves only after its bytes are fsynced, so a producer that saw the promise resolve may drop
 * its input: the event survives kill -9 and power loss.
 */
export class FileOutbox implements Outbox {
  readonly #opts: FileOutboxOptions;
  readonly #ulid: (seedTime?: number) => string;
  readonly #segments: Segment[] = [];
  readonly #index = new Map<number, Entry>();
  readonly #acks: AckLog;
  readonly #gate: CapacityGate;
  #queue: Queued[] = [];
  #unackedBytes = 0;
  #lastSeq = 0;
  #flushing: Promise<void> | undefined;
  #closed = false;
  #ackTimer: ReturnType<Clock['setTimeout']> | undefined;
  #maintenance: Promise<void> = Promise.resolve();
  #ackBuffer: number[] = [];
  #ackFlush: Promise<void> | undefined;
  readonly problems: string[] = [];

  private constructor(opts: FileOutboxOptions) {
    this.#opts = opts;
    this.#ulid = monotonicFactory();
    this.#acks = new AckLog(opts.dir);
    this.#gate = new CapacityGate({ maxBytes: opts.maxBytes, clock: opts.clock, stored: () => this.#unackedBytes, ...(opts.onPressure ? { onPressure: opts.onPressure } : {}) });
  }

  static async open(opts: FileOutboxOptions): Promise<FileOutbox> {
    const outbox = new FileOutbox(opts);
    await outbox.#recover();
    return outbox;
  }

  async #recover(): Promise<void> {
    const { dir, log } = this.#opts;
    await ensurePrivateDir(dir);
    const acked = new Set<number>();
    for (const [from, to] of await this.#acks.load()) {
      for (let s = from; s <= to; s++) acked.add(s);
    }
    const names = (await fs.readdir(dir))
      .map((name) => ({ name, base: parseSegmentName(name) }))
      .filter((x): x is { name: string; base: number } => x.base !== undefined)
      .sort((a, b) => a.base - b.base);
    for (const [i, { name, base }] of names.entries()) {
      const file = path.join(dir, name);
      const isLast = i === names.length - 1;
      const buf = await fs.readFile(file);
      const header = decodeHeader(buf);
      if ('problem' in header || header.base !== base) {
        await this.#keepAside(file, buf, `${'problem' in header ? header.problem : 'header does not match file name'}`);
        await fs.rm(file);
        continue;
      }
      const fh = await fs.open(file, 'r+');
      const segment: Segment = { base, file, fh, size: buf.length, lastSeq: base - 1, unacked: 0 };
      const { records, lastSeq, goodEnd, damage } = scanSegmentRecords(buf, base, this.#lastSeq);
      segment.lastSeq = lastSeq;
      this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
      for (const r of records) {
        if (acked.has(r.seq)) continue;
        this.#index.set(r.seq, { seq: r.seq, segment, offset: r.offset, length: r.length, ts: r.ts, id: r.id, type: r.type });
        this.#unackedBytes += r.length;
        segment.unacked += 1;
      }
      if (damage !== undefined) {
        // Bytes past the last good frame were never reported durable to a producer if this is the
        // newest segment (the tail of the last write); anywhere else it is real damage. Either way
        // the bytes are kept aside, never just dropped.
        await this.#keepAside(file, buf.subarray(goodEnd), `${damage} at byte ${goodEnd}`);
        if (!isLast) this.problems.push(`segment ${name} damaged (${damage}); the rest was kept in corrupt/`);
        await fh.truncate(goodEnd);
        await fh.sync();
        segment.size = goodEnd;
      }
      this.#lastSeq = Math.max(this.#lastSeq, base - 1);
      this.#segments.push(segment);
    }
    if (this.#segments.length === 0) this.#segments.push(await createSegment(dir, this.#lastSeq + 1));
    await this.#deleteAckedSegments();
    log.info({ depth: this.#index.size, bytes: this.#unackedBytes, lastSeq: this.#lastSeq, segments: this.#segments.length }, 'outbox recovered');
  }

  async #keepAside(file: string, bytes: Buffer, reason: string): Promise<void> {
    const corruptDir = path.join(this.#opts.dir, 'corrupt');
    await ensurePrivateDir(corruptDir);
    const target = path.join(corruptDir, `${path.basename(file)}.${this.#opts.clock.now()}`);
    await fs.writeFile(target, bytes, { mode: 0o600 });
    await fs.writeFile(`${target}.reason.txt`, `${reason}\n`, { mode: 0o600 });
    this.#opts.log.error({ file: path.basename(file), reason, keptAs: path.basename(target) }, `outbox: ${reason}; bytes kept in corrupt/`);
  }

  async append(type: string, data: unknown, options: AppendOptions = {}): Promise<OutboxEvent> {
    if (this.#closed) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'outbox is closed');
    if (!TYPE_PATTERN.test(type)) throw invalidInput(`event type "${type}" is not a dotted lower-case name`);
    const dataJson = JSON.stringify(revealDeep(data) ?? null);
    const bytes = Buffer.byteLength(dataJson) + ENVELOPE_ESTIMATE;
    if (bytes > MAX_FRAME_PAYLOAD || bytes > this.#opts.maxBytes) {
      throw invalidInput(`event ${type} is ${bytes} bytes, more than the outbox accepts in one event`);
    }
    await this.#gate.admit(bytes, options);
    return new Promise<OutboxEvent>((resolve, reject) => {
      this.#queue.push({ type, dataJson, bytes, resolve, reject, data });
      this.#flushing ??= this.#flush().finally(() => {
        this.#flushing = undefined;
      });
    });
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      await this.#maintenance;
      await this.#rotateIfNeeded();
      const segment = this.#active();
      const batch = this.#takeBatch(this.#opts.segmentBytes - segment.size);
      const now = this.#opts.clock.now();
      const ts = new Date(now).toISOString();
      const frames: Buffer[] = [];
      const events: OutboxEvent[] = [];
      let seq = this.#lastSeq;
      for (const q of batch) {
        seq += 1;
        const id = this.#ulid(now);
        const payload = Buffer.from(`{"id":"${id}","seq":${seq},"type":${JSON.stringify(q.type)},"ts":"${ts}","data":${q.dataJson}}`);
        frames.push(encodeFrame(payload));
        events.push({ id, seq, type: q.type, ts, data: q.data });
      }
      const bytes = Buffer.concat(frames);
      const start = segment.size;
      try {
        await segment.fh.write(bytes, 0, bytes.length, start);
        await segment.fh.datasync();
      } catch (err) {
        for (const q of batch) this.#gate.settle(q.bytes);
        const failure = new PraxisboxError(ErrorCode.Internal, `outbox write failed: ${describeError(err)}`, { cause: err });
        this.problems.push(failure.message);
        await segment.fh.truncate(start).catch(() => undefined);
        for (const q of batch) q.reject(failure);
        continue;
      }
      let offset = start;
      for (const [i, q] of batch.entries()) {
        const frame = frames[i] as Buffer;
        const event = events[i] as OutboxEvent;
        const length = frame.length - FRAME_HEADER_BYTES;
        this.#index.set(event.seq, { seq: event.seq, segment, offset: offset + FRAME_HEADER_BYTES, length, ts, id: event.id, type: event.type });
        offset += frame.length;
        this.#unackedBytes += length;
        this.#gate.settle(q.bytes);
        segment.unacked += 1;
      }
      segment.size = offset;
      segment.lastSeq = seq;
      this.#lastSeq = seq;
      for (const [i, q] of batch.entries()) {
        const event = events[i] as OutboxEvent;
        q.resolve(event);
        this.#opts.onAppended?.(event.seq, event.type);
      }
      this.#gate.release();
    }
  }

  /** Takes queued events up to `room` bytes (at least one), so segments stay near their size. */
  #takeBatch(room: number): Queued[] {
    let bytes = 0;
    let n = 0;
    for (const q of this.#queue) {
      if (n > 0 && bytes + q.bytes > room) break;
      bytes += q.bytes;
      n += 1;
    }
    return this.#queue.splice(0, n);
  }

  #active(): Segment {
    const segment = this.#segments[this.#segments.length - 1];
    if (!segment) throw new PraxisboxError(ErrorCode.Internal, 'outbox has no active segment');
    return segment;
  }

  async #rotateIfNeeded(): Promise<void> {
    const active = this.#active();
    const emptyAndDelivered = active.unacked === 0 && active.size > SEGMENT_HEADER_BYTES;
    if (active.size < this.#opts.segmentBytes && !(emptyAndDelivered && active.size > this.#opts.segmentBytes / 8)) return;
    this.#segments.push(await createSegment(this.#opts.dir, this.#lastSeq + 1));
    await this.#deleteAckedSegments();
  }

  async pending(afterSeq: number, limit: number): Promise<OutboxEvent[]> {
    const raw = await this.pendingRaw(afterSeq, limit);
    return raw.map((r) => JSON.parse(r.payload.toString('utf8')) as OutboxEvent);
  }

  /**
   * Like `pending`, but the stored envelope bytes as they are (the cloud link publishes them without
   * parsing and re-serializing). Neighbouring records are read with one read call.
   */
  async pendingRaw(afterSeq: number, limit: number): Promise<RawOutboxEvent[]> {
    const picked: Entry[] = [];
    for (const entry of this.#index.values()) {
      if (entry.seq <= afterSeq) continue;
      picked.push(entry);
      if (picked.length >= limit) break;
    }
    const out: RawOutboxEvent[] = [];
    let i = 0;
    while (i < picked.length) {
      const first = picked[i] as Entry;
      let j = i + 1;
      let end = first.offset + first.length;
      while (j < picked.length) {
        const next = picked[j] as Entry;
        if (next.segment !== first.segment || next.offset - FRAME_HEADER_BYTES !== end) break;
        end = next.offset + next.length;
        j += 1;
      }
      const buf = Buffer.allocUnsafe(end - first.offset);
      const { bytesRead } = await first.segment.fh.read(buf, 0, buf.length, first.offset);
      if (bytesRead !== buf.length) throw new PraxisboxError(ErrorCode.Corrupt, `outbox records from ${first.seq} are truncated on disk`);
      for (let k = i; k < j; k++) {
        const e = picked[k] as Entry;
        const at = e.offset - first.offset;
        out.push({ seq: e.seq, id: e.id, type: e.type, payload: buf.subarray(at, at + e.length) });
      }
      i = j;
    }
    return out;
  }

  async ack(seq: number): Promise<void> {
    const entry = this.#index.get(seq);
    if (!entry) return;
    this.#index.delete(seq);
    this.#unackedBytes -= entry.length;
    entry.segment.unacked -= 1;
    this.#gate.release();
    // Acks arriving together (PUBACKs of a window) share one write to the ack log.
    this.#ackBuffer.push(seq);
    this.#ackFlush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#flushAcks());
    const flushed = this.#ackFlush;
    if (entry.segment.unacked === 0 && entry.segment !== this.#active()) {
      this.#maintenance = this.#maintenance.then(() => flushed).then(() => this.#deleteAckedSegments()).catch((err: unknown) => {
        this.#opts.log.error({ err }, 'outbox: deleting delivered segments failed');
      });
      await this.#maintenance;
    }
    await flushed;
  }

  async #flushAcks(): Promise<void> {
    const seqs = this.#ackBuffer.sort((a, b) => a - b);
    this.#ackBuffer = [];
    this.#ackFlush = undefined;
    await Promise.all(toRanges(seqs).map(([from, to]) => this.#acks.append(from, to)));
    this.#scheduleAckSync();
  }

  #scheduleAckSync(): void {
    if (this.#ackTimer !== undefined) return;
    this.#ackTimer = this.#opts.clock.setTimeout(() => {
      this.#ackTimer = undefined;
      this.#acks.sync().catch((err: unknown) => this.#opts.log.warn({ err }, 'outbox: ack log sync failed'));
    }, ACK_SYNC_INTERVAL_MS);
    this.#ackTimer.unref?.();
  }

  /** Deletes fully delivered segments (never the active one), then shrinks the ack log. */
  async #deleteAckedSegments(): Promise<void> {
    let deleted = 0;
    while (this.#segments.length > 1 && this.#segments[0]?.unacked === 0) {
      const segment = this.#segments.shift() as Segment;
      await segment.fh.close();
      await fs.rm(segment.file, { force: true });
      deleted += 1;
    }
    if (deleted === 0) return;
    await syncDir(this.#opts.dir);
    if (this.#acks.size < ACK_LOG_REWRITE_BYTES) return;
    // The segment files are gone for good (dir fsynced), so acks for their seqs can go too.
    const ackedInLive: number[] = [];
    for (const segment of this.#segments) {
      for (let s = segment.base; s <= segment.lastSeq; s++) if (!this.#index.has(s)) ackedInLive.push(s);
    }
    await this.#acks.rewrite(toRanges(ackedInLive));
  }

  stats(): OutboxStats {
    const oldest = this.#index.values().next();
    const first = oldest.done ? undefined : oldest.value;
    return {
      depth: this.#index.size,
      bytes: this.#unackedBytes,
      ...(first ? { oldestSeq: first.seq, oldestTs: first.ts } : {}),
      lastSeq: this.#lastSeq,
      segments: this.#segments.length,
      full: this.#gate.full,
      waitingProducers: this.#gate.waiting,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#gate.rejectAll(new PraxisboxError(ErrorCode.DeviceUnavailable, 'outbox is closing'));
    await this.#flushing;
    await this.#ackFlush;
    await this.#maintenance;
    if (this.#ackTimer !== undefined) this.#opts.clock.clearTimeout(this.#ackTimer);
    await this.#acks.close();
    for (const s of this.#segments) await s.fh.close();
    this.#segments.length = 0;
  }
}
