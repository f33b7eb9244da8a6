import path from 'node:path';
import { viewRecord } from './codec/index.js';
import type { GdtParseResult } from './codec/index.js';
import { readAttachment } from './attachment-reader.js';
import { isInside, type DeviceLayout } from './device-layout.js';
import type { StabilityTracker } from './file-stability.js';
import type { GdtConfig } from './gdt-config.js';
import { mapAttachmentPath, REFUSAL_TEXT } from './path-mapping.js';
import type { AttachmentOutcome, ImportWarning } from './result-event.js';

/**
 * Reads every attachment (6302–6305 group with a 6305 path) of the result records. A device often
 * writes the PDF after the GDT file, so a missing or still-changing attachment makes the whole file
 * wait (up to `attachmentWaitMs` since the GDT file last changed); after that the results go
 * without it, with a warning — findings are never held back for a lost PDF.
 */
export interface CollectInput {
  parse: GdtParseResult;
  indexes: readonly number[];
  layout: DeviceLayout;
  roots: readonly string[];
  settings: Pick<GdtConfig, 'stableMs' | 'attachmentWaitMs' | 'maxAttachmentBytes'>;
  tracker: StabilityTracker;
  now: number;
  /** How long the GDT file itself has been unchanged. */
  unchangedMs: number;
}

export type Collected =
  | { retryInMs: number }
  | {
      outcomes: AttachmentOutcome[];
      /** Real path per attachment index ('' when not read): these move to archive/ with the file. */
      paths: string[];
      warnings: ImportWarning[];
    };

const GDT_NAME = /\.(gdt|\d{3})$/i;

export async function collectAttachments(input: CollectInput): Promise<Collected> {
  const { parse, indexes, layout, roots, settings, tracker, now, unchangedMs } = input;
  const outcomes: AttachmentOutcome[] = [];
  const paths: string[] = [];
  const warnings: ImportWarning[] = [];
  const mayWait = unchangedMs < settings.attachmentWaitMs;
  let retryInMs: number | undefined;
  const waitFor = (ms: number): void => {
    retryInMs = Math.min(retryInMs ?? Infinity, Math.max(1, ms));
  };

  for (const record of indexes) {
    const r = parse.records[record];
    if (r === undefined) continue;
    const view = viewRecord(r);
    if (view.kind !== 'results' && view.kind !== 'show-results') continue;
    for (const att of view.examination.attachments) {
      if (att.path === undefined) continue;
      const index = outcomes.length;
      const outcome: AttachmentOutcome = { record, index, format: att.format, description: att.description };
      outcomes.push(outcome);
      paths.push('');
      const problem = (code: string, message: string, size?: number): void => {
        outcome.problem = { code, message, ...(size !== undefined ? { size } : {}) };
        warnings.push({ code, message: `attachment ${index + 1}: ${message}` });
      };
      const mapped = mapAttachmentPath(att.path, layout);
      if (!mapped.ok) {
        problem(mapped.reason === 'unmapped' ? 'attachment-unmapped' : 'attachment-refused', REFUSAL_TEXT[mapped.reason]);
        continue;
      }
      outcome.name = path.basename(mapped.localPath);
      // Another GDT file or the box's own folders are never "attachments": archiving them with this
      // file would take away a file still to be imported, or an archived one.
      if (GDT_NAME.test(mapped.localPath) || isInside(layout.archiveDir, mapped.localPath) || isInside(layout.quarantineDir, mapped.localPath)) {
        problem('attachment-refused', 'the attachment path points at a GDT file or into archive/ or quarantine/');
        continue;
      }
      const read = await readAttachment(mapped.localPath, roots, settings.maxAttachmentBytes);
      if (!read.ok) {
        if (read.code === 'attachment-missing' && mayWait) {
          waitFor(Math.min(settings.attachmentWaitMs - unchangedMs, Math.max(settings.stableMs, 250)));
          continue;
        }
        problem(read.code, read.code === 'attachment-missing' ? `${read.message}; gave up after ${settings.attachmentWaitMs} ms` : read.message, read.size);
        continue;
      }
      // Still being written? Its own stat must stand still too (or be old by our clock).
      const obs = tracker.observe(read.realPath, read.stat, now);
      const settled = now - read.stat.mtimeMs >= settings.stableMs || (obs !== undefined && now - obs.since >= settings.stableMs);
      if (!settled && mayWait) {
        waitFor(settings.stableMs);
        continue;
      }
      outcome.read = { size: read.size, sha256: read.sha256, content: read.content };
      paths[index] = read.realPath;
    }
  }
  if (retryInMs !== undefined) return { retryInMs };
  return { outcomes, paths, warnings };
}
