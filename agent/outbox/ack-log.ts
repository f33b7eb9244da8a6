import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeFrame, scanFrames } from './frame.js';
import { readIfExists, writeFileDurable } from '../core/durable-file.js';

/**
 * Acknowledged seq ranges, appended as frames of two u64 (from, to). Losing the newest acks in a
 * crash only means those events are sent again (delivery is at-least-once and carries the same id),
 * so appends are not fsynced one by one; `sync()` runs periodically and on close.
 */
export class AckLog {
  readonly #file: string;
  #fh: FileHandle | undefined;
  #size = 0;
  #dirty = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.#file = path.join(dir, 'acks.log');
  }

  get size(): number {
    return this.#size;
  }

  /** Reads every intact range; a torn tail is cut off. */
  async load(): Promise<Array<[number, number]>> {
    const buf = (await readIfExists(this.#file)) ?? Buffer.alloc(0);
    const scan = scanFrames(buf);
    const ranges: Array<[number, number]> = [];
    for (const f of scan.frames) {
      if (f.payload.length !== 16) continue;
      ranges.push([Number(f.payload.readBigUInt64BE(0)), Number(f.payload.readBigUInt64BE(8))]);
    }
    if (scan.damage) await fs.truncate(this.#file, scan.goodEnd);
    this.#fh = await fs.open(this.#file, 'a', 0o600);
    this.#size = scan.goodEnd;
    return ranges;
  }

  append(from: number, to: number): Promise<void> {
    const payload = Buffer.alloc(16);
    payload.writeBigUInt64BE(BigInt(from), 0);
    payload.writeBigUInt64BE(BigInt(to), 8);
    const frame = encodeFrame(payload);
    return this.#enqueue(async () => {
      await this.#handle().write(frame);
      this.#size += frame.length;
      this.#dirty = true;
    });
  }

  /** Runs `work` after everything queued before it; a failure is reported to its caller only. */
  #enqueue(work: () => Promise<void>): Promise<void> {
    const result = this.#chain.then(work);
    this.#chain = result.catch(() => undefined);
    return result;
  }

  async sync(): Promise<void> {
    await this.#chain;
    if (!this.#dirty || !this.#fh) return;
    this.#dirty = false;
    await this.#fh.datasync();
  }

  /** Replaces the log with exactly these ranges (after segments were deleted). */
  async rewrite(ranges: Array<[number, number]>): Promise<void> {
    const run = async (): Promise<void> => {
      const frames = ranges.map(([from, to]) => {
        const payload = Buffer.alloc(16);
        payload.writeBigUInt64BE(BigInt(from), 0);
        payload.writeBigUInt64BE(BigInt(to), 8);
        return encodeFrame(payload);
      });
      const content = Buffer.concat(frames);
      await this.#fh?.close();
      this.#fh = undefined;
      await writeFileDurable(this.#file, content);
      this.#fh = await fs.open(this.#file, 'a', 0o600);
      this.#size = content.length;
      this.#dirty = false;
    };
    return this.#enqueue(run);
  }

  async close(): Promise<void> {
    await this.sync();
    await this.#fh?.close();
    this.#fh = undefined;
  }

  #handle(): FileHandle {
    if (!this.#fh) throw new Error('ack log is not open');
    return this.#fh;
  }
}

/** Collapses sorted seqs into inclusive ranges. */
export function toRanges(sortedSeqs: readonly number[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const seq of sortedSeqs) {
    const last = ranges[ranges.length - 1];
    if (last && last[1] + 1 === seq) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}
