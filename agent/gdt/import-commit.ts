import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import type { Outbox, OutboxEvent } from '../outbox/outbox-event.js';
import type { DeviceLayout } from './device-layout.js';
import type { HashRegistry, RegistryEntry } from './hash-registry.js';
import { archiveName, archiveStamp, attachmentArchiveName, type RejectCode } from './import-plan.js';
import { moveIfPresent, moveIfSame, quarantineFile } from './file-moves.js';
import type { FileStat } from './file-stability.js';
import type { ResultEventData } from './result-event.js';

/**
 * The durable steps of taking in a file, in the one order that survives a kill -9 between any two:
 *
 *   results:  registry `pending` → outbox.append (durable) → registry `done` → attachments and file
 *             to archive/. A restart that finds `pending` looks for the event in the outbox (by
 *             `importId`); a restart that finds `done` only finishes the move.
 *   rejects:  outbox.append(`gdt.rejected`) → `.reason.txt` → file to quarantine/ (a crash before
 *             the move rejects again: the same `rejectId`, never a lost rejection).
 */
export interface CommitDeps {
  deviceId: string;
  layout: DeviceLayout;
  registry: HashRegistry;
  outbox: Outbox;
  log: Logger;
  now: () => number;
}

export interface FileFacts {
  name: string;
  size: number;
  sha256: string;
  /** The stat the bytes were read under: only that file is moved. */
  stat: FileStat;
}

/** `importId` is derived from device and content, so the same file always carries the same id (the cloud's de-duplication key). */
export function importIdOf(deviceId: string, sha256: string): string {
  return createHash('sha256').update(`${deviceId}\0${sha256}`).digest('hex').slice(0, 32);
}

export class ImportCommit {
  readonly #deps: CommitDeps;

  constructor(deps: CommitDeps) {
    this.#deps = deps;
  }

  keyOf(sha256: string): string {
    return `${this.#deps.deviceId}/${sha256}`;
  }

  /** Plans the registry entry for a result (not yet stored). */
  plan(file: FileFacts, kind: RegistryEntry['kind'], attachments: string[]): RegistryEntry {
    return {
      key: this.keyOf(file.sha256),
      state: 'pending',
      kind,
      importId: importIdOf(this.#deps.deviceId, file.sha256),
      file: file.name,
      archiveName: archiveName(this.#deps.now(), file.sha256, file.name),
      attachments,
      at: this.#deps.now(),
    };
  }

  /** Steps 1–4 for results. Throws what outbox.append throws (the registry is cleaned up first). */
  async commitResult(entry: RegistryEntry, data: ResultEventData): Promise<OutboxEvent> {
    const { registry, outbox } = this.#deps;
    const pending: RegistryEntry = { ...entry, state: 'pending', seqBefore: outbox.stats().lastSeq, at: this.#deps.now() };
    await registry.put(pending);
    let event: OutboxEvent;
    try {
      event = await outbox.append('gdt.result', data);
    } catch (err) {
      // Not durable: nothing was sent, so the file is simply taken in again later.
      await registry.remove(entry.key);
      throw err;
    }
    await registry.put({ ...pending, state: 'done', at: this.#deps.now() });
    return event;
  }

  /** Moves a taken-in file and its attachments to archive/ (idempotent: what is gone was moved before). */
  async archive(entry: RegistryEntry, file: FileFacts): Promise<void> {
    const { layout } = this.#deps;
    for (const [i, p] of entry.attachments.entries()) {
      if (p === '') continue;
      await moveIfPresent(p, path.join(layout.archiveDir, attachmentArchiveName(entry.archiveName, i, path.basename(p))));
    }
    await moveIfSame(path.join(layout.resultDir, file.name), path.join(layout.archiveDir, entry.archiveName), file.stat);
  }

  /** A file whose content was taken in before: finish an interrupted move, or archive a copy without an event. */
  async settleDone(entry: RegistryEntry, file: FileFacts): Promise<'finished' | 'duplicate'> {
    const { layout } = this.#deps;
    const archived = await exists(path.join(layout.archiveDir, entry.archiveName));
    if (!archived) {
      await this.archive(entry, file);
      return 'finished';
    }
    await moveIfSame(path.join(layout.resultDir, file.name), path.join(layout.archiveDir, archiveName(this.#deps.now(), file.sha256, `dup-${file.name}`)), file.stat);
    return 'duplicate';
  }

  /**
   * After a crash between `pending` and `done`: was the event appended? Found among the undelivered
   * events → yes. The outbox's last seq unchanged since `pending` → no. Otherwise it cannot be told
   * (delivered and acknowledged in the crash window): it is sent again with the same `importId`.
   */
  async recoverPending(entry: RegistryEntry): Promise<'appended' | 'not-appended' | 'unknown'> {
    const { outbox, registry } = this.#deps;
    const after = entry.seqBefore ?? 0;
    let cursor = after;
    for (;;) {
      const page = await outbox.pending(cursor, 64);
      if (page.length === 0) break;
      for (const e of page) {
        if (e.type === 'gdt.result' && (e.data as { importId?: unknown } | null)?.importId === entry.importId) {
          await registry.put({ ...entry, state: 'done', at: this.#deps.now() });
          return 'appended';
        }
      }
      cursor = page[page.length - 1]?.seq ?? cursor;
    }
    if (outbox.stats().lastSeq === after) return 'not-appended';
    return 'unknown';
  }

  /** Rejection: event first (nothing lost), then reason file and move. Returns the quarantine name. */
  async reject(file: { name: string; size: number; id: string }, code: RejectCode, message: string): Promise<string> {
    const { layout, outbox, deviceId } = this.#deps;
    const now = this.#deps.now();
    const quarantineName = `${archiveStamp(now)}-${file.id.slice(0, 12)}-${file.name}`;
    const rejectId = createHash('sha256').update(`${deviceId}\0reject\0${file.id}`).digest('hex').slice(0, 32);
    await outbox.append('gdt.rejected', { deviceId, rejectId, file: file.name, quarantineFile: quarantineName, code, reason: message, size: file.size });
    const reason = [`file: ${file.name}`, `device: ${deviceId}`, `size: ${file.size} bytes`, `code: ${code}`, `reason: ${message}`, `at: ${new Date(now).toISOString()}`, ''].join('\n');
    await quarantineFile(path.join(layout.resultDir, file.name), layout.quarantineDir, quarantineName, reason);
    return quarantineName;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}
