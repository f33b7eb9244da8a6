import { createHash, randomBytes } from 'node:crypto';
import type { Chunk } from './contract.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';

/** JSON and field names around a chunk's base64 data: what a chunk message adds to its data. */
const CHUNK_OVERHEAD_BYTES = 512;

/** Raw bytes per chunk so that one chunk message stays within `maxMessageBytes` (base64: 4/3). */
export function chunkDataBytes(maxMessageBytes: number): number {
  const room = Math.floor(((maxMessageBytes - CHUNK_OVERHEAD_BYTES) * 3) / 4);
  if (room < 1024) throw new PraxisboxError(ErrorCode.InvalidConfig, `maxMessageBytes ${maxMessageBytes} is too small to carry chunks`);
  return room - (room % 3);
}

/** Splits a payload that is too large for one message into chunk messages (pure). */
export function splitIntoChunks(payload: Buffer, topic: string, maxMessageBytes: number, id = randomBytes(12).toString('base64url')): Chunk[] {
  const per = chunkDataBytes(maxMessageBytes);
  const count = Math.max(1, Math.ceil(payload.length / per));
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const chunks: Chunk[] = [];
  for (let index = 0; index < count; index++) {
    chunks.push({ id, index, count, size: payload.length, sha256, topic, data: payload.subarray(index * per, (index + 1) * per).toString('base64') });
  }
  return chunks;
}

interface Partial {
  first: Chunk;
  parts: (Buffer | undefined)[];
  received: number;
  bytes: number;
  startedAt: number;
}

export interface ReassemblerOptions {
  /** Largest blob accepted (bytes). */
  maxBlobBytes: number;
  /** Blobs being assembled at once; the oldest is dropped beyond it. */
  maxOpen: number;
  /** An unfinished blob older than this is dropped. */
  timeoutMs: number;
  now: () => number;
}

export type ReassemblyResult = { state: 'partial' } | { state: 'complete'; topic: string; payload: Buffer } | { state: 'failed'; id: string; reason: string };

/**
 * Collects chunks (in any order, duplicates allowed) and returns the payload once every chunk is
 * there and the SHA-256 matches. Memory is bounded by `maxBlobBytes × maxOpen`.
 */
export class ChunkReassembler {
  readonly #open = new Map<string, Partial>();
  readonly #opts: ReassemblerOptions;

  constructor(opts: ReassemblerOptions) {
    this.#opts = opts;
  }

  add(chunk: Chunk): ReassemblyResult {
    this.#expire();
    if (chunk.size > this.#opts.maxBlobBytes) return { state: 'failed', id: chunk.id, reason: `blob of ${chunk.size} bytes exceeds the limit of ${this.#opts.maxBlobBytes}` };
    if (chunk.index >= chunk.count) return { state: 'failed', id: chunk.id, reason: `chunk index ${chunk.index} out of range` };
    let entry = this.#open.get(chunk.id);
    if (entry && (entry.first.count !== chunk.count || entry.first.sha256 !== chunk.sha256 || entry.first.size !== chunk.size || entry.first.topic !== chunk.topic)) {
      this.#open.delete(chunk.id);
      return { state: 'failed', id: chunk.id, reason: 'chunks of one blob disagree on count, size, topic or checksum' };
    }
    if (!entry) {
      if (this.#open.size >= this.#opts.maxOpen) {
        const oldest = this.#open.keys().next().value as string;
        this.#open.delete(oldest);
      }
      entry = { first: chunk, parts: new Array<Buffer | undefined>(chunk.count).fill(undefined), received: 0, bytes: 0, startedAt: this.#opts.now() };
      this.#open.set(chunk.id, entry);
    }
    if (entry.parts[chunk.index] === undefined) {
      const data = Buffer.from(chunk.data, 'base64');
      entry.bytes += data.length;
      if (entry.bytes > chunk.size) {
        this.#open.delete(chunk.id);
        return { state: 'failed', id: chunk.id, reason: 'chunks carry more bytes than the blob size' };
      }
      entry.parts[chunk.index] = data;
      entry.received += 1;
    }
    if (entry.received < chunk.count) return { state: 'partial' };
    this.#open.delete(chunk.id);
    const payload = Buffer.concat(entry.parts as Buffer[]);
    if (payload.length !== chunk.size) return { state: 'failed', id: chunk.id, reason: `re-assembled ${payload.length} bytes, expected ${chunk.size}` };
    if (createHash('sha256').update(payload).digest('hex') !== chunk.sha256) return { state: 'failed', id: chunk.id, reason: 'SHA-256 of the re-assembled blob does not match' };
    return { state: 'complete', topic: chunk.topic, payload };
  }

  get openCount(): number {
    return this.#open.size;
  }

  #expire(): void {
    const limit = this.#opts.now() - this.#opts.timeoutMs;
    for (const [id, p] of this.#open) if (p.startedAt < limit) this.#open.delete(id);
  }
}
