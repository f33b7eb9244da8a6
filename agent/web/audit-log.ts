import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../core/durable-file.js';

/**
 * One audit record: who did what, when. Never values: only command names, configuration paths and
 * section names, outcomes and error codes — a value could be a secret or patient data.
 */
export interface AuditEntry {
  ts: string;
  event: string;
  user?: string;
  ip?: string;
  source?: string;
  command?: string;
  ok?: boolean;
  code?: string;
  /** Configuration paths (dotted) a command named. */
  paths?: string[];
  /** Configuration sections that changed. */
  sections?: string[];
  /** Configuration version after a change. */
  version?: number;
}

/**
 * `<dataDir>/web/audit.jsonl`: appended line by line (0600); when it passes `maxBytes` it becomes
 * `audit.1.jsonl` (the previous one is dropped), so the log is bounded at about twice that size.
 * Appends are serialised; each line is flushed (fdatasync) so an auth event survives a power cut.
 */
export class AuditLog {
  readonly file: string;
  readonly #maxBytes: () => number;
  #chain: Promise<void> = Promise.resolve();

  constructor(dir: string, maxBytes: () => number) {
    this.file = path.join(dir, 'audit.jsonl');
    this.#maxBytes = maxBytes;
  }

  append(entry: Omit<AuditEntry, 'ts'> & { ts?: string }, now: number): Promise<void> {
    const line = `${JSON.stringify({ ts: entry.ts ?? new Date(now).toISOString(), ...entry })}\n`;
    const run = async (): Promise<void> => {
      await ensurePrivateDir(path.dirname(this.file));
      const size = await fs.stat(this.file).then((s) => s.size, () => 0);
      if (size > 0 && size + line.length > this.#maxBytes()) await fs.rename(this.file, path.join(path.dirname(this.file), 'audit.1.jsonl'));
      const fh = await fs.open(this.file, 'a', 0o600);
      try {
        await fh.appendFile(line);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    };
    const result = this.#chain.then(run, run);
    this.#chain = result.catch(() => undefined);
    return result;
  }

  /** The newest `limit` entries, newest last (reads the rotated file too when needed). */
  async tail(limit: number): Promise<AuditEntry[]> {
    await this.#chain;
    const read = (f: string): Promise<string[]> => fs.readFile(f, 'utf8').then((t) => t.split('\n').filter(Boolean), () => []);
    let lines = await read(this.file);
    if (lines.length < limit) lines = [...(await read(path.join(path.dirname(this.file), 'audit.1.jsonl'))), ...lines];
    return lines.slice(-limit).flatMap((l) => {
      try {
        return [JSON.parse(l) as AuditEntry];
      } catch {
        return [];
      }
    });
  }
}
