import fs from 'node:fs/promises';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { readIfExists, writeFileDurable } from '../core/durable-file.js';
import type { Logger } from '../core/logger.js';
import path from 'node:path';

/**
 * Content hashes of the files the box has taken in, per device, durable: the same bytes arriving
 * again (a restart before archiving, a copy, a device resending) give no second event. An
 * append-only log of JSON lines, each fdatasynced, so that marking a file costs one small write;
 * the last line for a key wins; a torn last line (crash mid-write) is dropped on open.
 *
 * `pending` is written *before* the event is appended to the outbox and `done` after, so a crash
 * between the two is visible at the next start and is resolved against the outbox (importer).
 */
export interface RegistryEntry {
  /** `<deviceId>/<sha256 of the file>` */
  key: string;
  state: 'pending' | 'done';
  kind: 'result' | 'answer';
  /** The id the event carries (the cloud de-duplicates on it). */
  importId: string;
  /** The file's name in the result folder. */
  file: string;
  /** Name in archive/ the file gets (chosen before the event, so a restart finishes the same move). */
  archiveName: string;
  /** Attachments (paths on the box) that move to archive/ with the file. */
  attachments: string[];
  /** Outbox `lastSeq` just before the append: a restart that finds it unchanged knows nothing was appended. */
  seqBefore?: number;
  /** Box time of the last change. */
  at: number;
}

interface Tombstone {
  key: string;
  removed: true;
}

export interface HashRegistryOptions {
  file: string;
  log: Logger;
  now: () => number;
  /** `done` entries older than this are dropped on open (default 90 days). */
  retentionMs?: number;
}

const DEFAULT_RETENTION_MS = 90 * 86_400_000;

export class HashRegistry {
  readonly #opts: HashRegistryOptions;
  readonly #entries = new Map<string, RegistryEntry>();
  #handle: fs.FileHandle | undefined;
  #lines = 0;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(opts: HashRegistryOptions) {
    this.#opts = opts;
  }

  static async open(opts: HashRegistryOptions): Promise<HashRegistry> {
    const registry = new HashRegistry(opts);
    await registry.#load();
    return registry;
  }

  get(key: string): RegistryEntry | undefined {
    return this.#entries.get(key);
  }

  /** Entries whose key starts with `<deviceId>/`. */
  forDevice(deviceId: string): RegistryEntry[] {
    return [...this.#entries.values()].filter((e) => e.key.startsWith(`${deviceId}/`));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Stores `entry` durably; resolves once it is on disk. */
  put(entry: RegistryEntry): Promise<void> {
    return this.#write(entry, () => this.#entries.set(entry.key, { ...entry, attachments: [...entry.attachments] }));
  }

  remove(key: string): Promise<void> {
    if (!this.#entries.has(key)) return Promise.resolve();
    const tomb: Tombstone = { key, removed: true };
    return this.#write(tomb, () => this.#entries.delete(key));
  }

  async close(): Promise<void> {
    await this.#tail.catch(() => undefined);
    await this.#handle?.close();
    this.#handle = undefined;
  }

  #write(line: RegistryEntry | Tombstone, apply: () => void): Promise<void> {
    const run = async (): Promise<void> => {
      const handle = this.#handle;
      if (handle === undefined) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'the GDT hash registry is closed');
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.datasync();
      this.#lines += 1;
      apply();
      if (this.#lines > 1_000 && this.#lines > this.#entries.size * 4) await this.#compact();
    };
    const result = this.#tail.then(run, run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #load(): Promise<void> {
    const { file, log } = this.#opts;
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const buf = await readIfExists(file);
    let torn = false;
    let bad = 0;
    if (buf !== undefined) {
      const text = buf.toString('utf8');
      const lines = text.split('\n');
      // The last element is '' after a final newline; anything else there is a line cut by a crash.
      if (lines[lines.length - 1] !== '') torn = true;
      for (const raw of lines.slice(0, -1)) {
        const parsed = parseLine(raw);
        if (parsed === undefined) {
          bad += 1;
          continue;
        }
        if ('removed' in parsed) this.#entries.delete(parsed.key);
        else this.#entries.set(parsed.key, parsed);
      }
    }
    if (bad > 0) log.warn({ badLines: bad }, 'GDT hash registry: unreadable lines skipped');
    const limit = this.#opts.now() - (this.#opts.retentionMs ?? DEFAULT_RETENTION_MS);
    let expired = 0;
    for (const [key, e] of this.#entries) {
      if (e.state === 'done' && e.at < limit) {
        this.#entries.delete(key);
        expired += 1;
      }
    }
    // Rewriting drops torn and obsolete lines; an untouched file is only appended to.
    if (torn || bad > 0 || expired > 0 || buf === undefined) await this.#compact();
    else {
      this.#handle = await fs.open(file, 'a', 0o600);
      this.#lines = buf.toString('utf8').split('\n').length - 1;
    }
  }

  async #compact(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    const body = [...this.#entries.values()].map((e) => `${JSON.stringify(e)}\n`).join('');
    await writeFileDurable(this.#opts.file, body, 0o600);
    this.#handle = await fs.open(this.#opts.file, 'a', 0o600);
    this.#lines = this.#entries.size;
  }
}

function parseLine(raw: string): RegistryEntry | Tombstone | undefined {
  if (raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['key'] !== 'string') return undefined;
  if (v['removed'] === true) return { key: v['key'], removed: true };
  if ((v['state'] !== 'pending' && v['state'] !== 'done') || (v['kind'] !== 'result' && v['kind'] !== 'answer')) return undefined;
  if (typeof v['importId'] !== 'string' || typeof v['file'] !== 'string' || typeof v['archiveName'] !== 'string' || typeof v['at'] !== 'number') return undefined;
  const attachments = Array.isArray(v['attachments']) ? v['attachments'].filter((a): a is string => typeof a === 'string') : [];
  const entry: RegistryEntry = { key: v['key'], state: v['state'], kind: v['kind'], importId: v['importId'], file: v['file'], archiveName: v['archiveName'], attachments, at: v['at'] };
  if (typeof v['seqBefore'] === 'number') entry.seqBefore = v['seqBefore'];
  return entry;
}
