import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { encodeFrame, scanFrames } from '../outbox/frame.js';
import { readIfExists, ensurePrivateDir, writeFileDurable } from '../core/durable-file.js';
import type { CommandReply } from '../core/commands.js';

/** Where and how to answer a command: MQTT 5 response topic + correlation data, or res/{id}. */
export interface ReplyRoute {
  topic: string;
  correlationData?: string;
}

export interface JournalEntry {
  id: string;
  name: string;
  args: unknown;
  receivedAt: number;
  expiresAt?: number;
  route: ReplyRoute;
  result?: CommandReply;
  doneAt?: number;
  /** The reply reached the broker (PUBACK). Not fsynced: a lost flag only means one more reply. */
  replied?: boolean;
}

type Record_ = { kind: 'received'; entry: JournalEntry } | { kind: 'done'; id: string; result: CommandReply; doneAt: number } | { kind: 'replied'; id: string };

/**
 * Durable record of commands from the cloud: a command is written (and fsynced) here before its
 * PUBACK is sent, its result before its reply is published. So a command acknowledged to the
 * broker is never lost (one interrupted by a crash runs after restart), the same id never runs twice,
 * and replies are re-sent until the broker has them. Results are kept for the retention period.
 * The file holds command arguments, which may be patient data: 0600, never logged.
 */
export class CommandJournal {
  readonly #file: string;
  readonly #entries = new Map<string, JournalEntry>();
  #fh: FileHandle | undefined;
  #size = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.#file = path.join(dir, 'commands.log');
  }

  async open(now: number, retentionMs: number): Promise<void> {
    await ensurePrivateDir(path.dirname(this.#file));
    const buf = (await readIfExists(this.#file)) ?? Buffer.alloc(0);
    // A torn last record was never acknowledged to anyone (its write had not returned); skip it.
    for (const frame of scanFrames(buf).frames) {
      let rec: Record_;
      try {
        rec = JSON.parse(frame.payload.toString('utf8')) as Record_;
      } catch {
        continue;
      }
      if (rec.kind === 'received') this.#entries.set(rec.entry.id, rec.entry);
      const entry = rec.kind === 'received' ? undefined : this.#entries.get(rec.id);
      if (rec.kind === 'done' && entry) Object.assign(entry, { result: rec.result, doneAt: rec.doneAt, args: null });
      if (rec.kind === 'replied' && entry) entry.replied = true;
    }
    for (const [id, e] of this.#entries) {
      if (e.doneAt !== undefined && e.doneAt < now - retentionMs) this.#entries.delete(id);
    }
    await this.#rewrite();
  }

  get(id: string): JournalEntry | undefined {
    return this.#entries.get(id);
  }

  /** Commands acknowledged to the broker but not finished (the agent stopped or crashed meanwhile). */
  unfinished(): JournalEntry[] {
    return [...this.#entries.values()].filter((e) => e.result === undefined);
  }

  /** Finished commands whose reply has not reached the broker yet. */
  unreplied(): JournalEntry[] {
    return [...this.#entries.values()].filter((e) => e.result !== undefined && !e.replied);
  }

  received(entry: JournalEntry): Promise<void> {
    this.#entries.set(entry.id, entry);
    return this.#append({ kind: 'received', entry }, true);
  }

  /**
   * Records the result. The arguments are only needed to run an interrupted command again, and may
   * be large or personal (a PDF, a patient for a device order): once the result is stored they are
   * dropped, and when they were more than a few bytes the journal is rewritten so they leave the disk.
   */
  async done(id: string, result: CommandReply, doneAt: number): Promise<void> {
    const entry = this.#entries.get(id);
    const argBytes = entry ? JSON.stringify(entry.args ?? null).length : 0;
    if (entry) Object.assign(entry, { result, doneAt, args: null });
    await this.#append({ kind: 'done', id, result, doneAt }, true);
    if (argBytes > 256) await this.#enqueue(() => this.#rewrite());
  }

  replied(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (entry) entry.replied = true;
    return this.#append({ kind: 'replied', id }, false);
  }

  get size(): number {
    return this.#entries.size;
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#fh?.close();
    this.#fh = undefined;
  }

  /** Drops expired results by rewriting the file with what is still kept. */
  async compact(now: number, retentionMs: number): Promise<void> {
    for (const [id, e] of this.#entries) {
      if (e.doneAt !== undefined && e.doneAt < now - retentionMs) this.#entries.delete(id);
    }
    await this.#enqueue(() => this.#rewrite());
  }

  get fileBytes(): number {
    return this.#size;
  }

  #append(rec: Record_, sync: boolean): Promise<void> {
    const frame = encodeFrame(Buffer.from(JSON.stringify(rec)));
    return this.#enqueue(async () => {
      const fh = this.#fh;
      if (!fh) throw new Error('command journal is closed');
      await fh.write(frame);
      this.#size += frame.length;
      if (sync) await fh.datasync();
    });
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    const result = this.#chain.then(work);
    this.#chain = result.catch(() => undefined);
    return result;
  }

  async #rewrite(): Promise<void> {
    const frames: Buffer[] = [];
    for (const entry of this.#entries.values()) {
      const { result, doneAt, replied, ...received } = entry;
      frames.push(encodeFrame(Buffer.from(JSON.stringify({ kind: 'received', entry: received }))));
      if (result !== undefined && doneAt !== undefined) frames.push(encodeFrame(Buffer.from(JSON.stringify({ kind: 'done', id: entry.id, result, doneAt }))));
      if (replied) frames.push(encodeFrame(Buffer.from(JSON.stringify({ kind: 'replied', id: entry.id }))));
    }
    const content = Buffer.concat(frames);
    await this.#fh?.close();
    await writeFileDurable(this.#file, content, 0o600);
    this.#fh = await fs.open(this.#file, 'a', 0o600);
    this.#size = content.length;
  }
}
