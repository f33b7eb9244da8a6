import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir, syncDir, writeFileDurable } from '../core/durable-file.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isTerminal, type PrintJobRecord } from './print-job.js';

/**
 * The queue's disk: one record file per job (`jobs/ID.json`, replaced durably on every change) and
 * one spool file per job (`ID.pdf`), both 0600 in 0700 directories. A job exists once its record
 * is durable; the spool file is written (and fsynced) first, so a record never points at a
 * document that is not on disk. Records are updated one at a time per job (the command handlers
 * and the printer workers share them).
 */

export interface JobStoreDeps {
  jobsDir: string;
  spoolDir: string;
  log: Logger;
}

const ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

export class JobStore {
  readonly #deps: JobStoreDeps;
  readonly #jobs = new Map<string, PrintJobRecord>();
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(deps: JobStoreDeps) {
    this.#deps = deps;
  }

  /** Loads every record; removes spool files without a record (a crash between spool and record) and spools of finished jobs. */
  async open(): Promise<void> {
    await ensurePrivateDir(this.#deps.jobsDir);
    await ensurePrivateDir(this.#deps.spoolDir);
    this.#jobs.clear();
    for (const name of await fs.readdir(this.#deps.jobsDir)) {
      if (!name.endsWith('.json')) {
        // Temp files of an interrupted durable write.
        if (name.startsWith('.')) await fs.rm(path.join(this.#deps.jobsDir, name), { force: true });
        continue;
      }
      const id = name.slice(0, -5);
      try {
        const record = JSON.parse(await fs.readFile(path.join(this.#deps.jobsDir, name), 'utf8')) as PrintJobRecord;
        if (record.v !== 1 || record.id !== id) throw new Error('not a job record');
        this.#jobs.set(id, record);
      } catch {
        // Never delete what cannot be read: it may be the only trace of an accepted job.
        this.#deps.log.error({ file: name }, 'print job record is unreadable; kept aside');
        await fs.rename(path.join(this.#deps.jobsDir, name), path.join(this.#deps.jobsDir, `${name}.unreadable`));
      }
    }
    for (const name of await fs.readdir(this.#deps.spoolDir)) {
      const id = name.replace(/\.pdf(\.part)?$/, '');
      const job = this.#jobs.get(id);
      if (name.endsWith('.part') || !job || isTerminal(job.state)) await fs.rm(path.join(this.#deps.spoolDir, name), { force: true });
    }
  }

  all(): PrintJobRecord[] {
    return [...this.#jobs.values()].sort((a, b) => a.acceptedAt - b.acceptedAt || a.id.localeCompare(b.id));
  }

  get(id: string): PrintJobRecord | undefined {
    return ID.test(id) ? this.#jobs.get(id) : undefined;
  }

  byRequestId(requestId: string): PrintJobRecord | undefined {
    return [...this.#jobs.values()].find((j) => j.requestId === requestId);
  }

  spoolPath(id: string): string {
    if (!ID.test(id)) throw new PraxisboxError(ErrorCode.InvalidInput, 'not a print job id');
    return path.join(this.#deps.spoolDir, `${id}.pdf`);
  }

  /** Writes the document durably (0600). Returns its size and SHA-256. */
  async writeSpool(id: string, document: Buffer): Promise<{ size: number; sha256: string }> {
    const file = this.spoolPath(id);
    const part = `${file}.part`;
    const fh = await fs.open(part, 'wx', 0o600);
    try {
      await fh.writeFile(document);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(part, file);
    await syncDir(this.#deps.spoolDir);
    return { size: document.length, sha256: createHash('sha256').update(document).digest('hex') };
  }

  async create(record: PrintJobRecord): Promise<void> {
    await this.#write(record);
    this.#jobs.set(record.id, record);
  }

  /**
   * Applies `change` to the current record and stores the result durably before it becomes
   * visible. Calls for one job run one after another, so a cancel and a worker step never race.
   */
  update(id: string, change: (job: PrintJobRecord) => PrintJobRecord): Promise<PrintJobRecord> {
    const prev = this.#chains.get(id) ?? Promise.resolve();
    const next = prev
      .catch(() => undefined)
      .then(async () => {
        const current = this.#jobs.get(id);
        if (!current) throw new PraxisboxError(ErrorCode.NotFound, 'no such print job');
        const updated = change(current);
        if (updated === current) return current;
        await this.#write(updated);
        this.#jobs.set(id, updated);
        if (isTerminal(updated.state) && !isTerminal(current.state)) await this.#removeSpool(id);
        return updated;
      });
    this.#chains.set(id, next);
    void next.finally(() => {
      if (this.#chains.get(id) === next) this.#chains.delete(id);
    }).catch(() => undefined);
    return next;
  }

  /** Drops finished records older than `keepMs` (their spool is long gone). */
  async prune(now: number, keepMs: number): Promise<number> {
    let removed = 0;
    for (const job of [...this.#jobs.values()]) {
      if (!isTerminal(job.state) || (job.finishedAt ?? job.acceptedAt) > now - keepMs) continue;
      await fs.rm(path.join(this.#deps.jobsDir, `${job.id}.json`), { force: true });
      this.#jobs.delete(job.id);
      removed += 1;
    }
    if (removed > 0) await syncDir(this.#deps.jobsDir);
    return removed;
  }

  async #write(record: PrintJobRecord): Promise<void> {
    await writeFileDurable(path.join(this.#deps.jobsDir, `${record.id}.json`), JSON.stringify(record), 0o600);
  }

  async #removeSpool(id: string): Promise<void> {
    try {
      await fs.rm(this.spoolPath(id), { force: true });
    } catch (err) {
      this.#deps.log.warn({ jobId: id, code: (err as NodeJS.ErrnoException).code }, 'spool file could not be removed; retried at next start');
    }
  }
}
