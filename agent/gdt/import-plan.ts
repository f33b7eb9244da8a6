import { recordType } from './codec/index.js';
import type { GdtParseResult, GdtRecord } from './codec/index.js';

/**
 * What to do with a file found in a result folder (pure). The I/O shell reads and parses; these
 * functions decide: import as results, answer a master-data request, reject, or look again later.
 */
export type RejectCode = 'too-large' | 'not-a-file' | 'not-gdt' | 'over-limit' | 'not-a-result' | 'mixed-records' | 'no-open-order';

export type FileClass =
  | { kind: 'results'; indexes: number[] }
  | { kind: 'master-data-request'; index: number }
  | { kind: 'reject'; code: RejectCode; message: string };

/** 6310 (results) is what devices send; 6311 (show results) is sent by devices that reuse it for the same purpose. */
export const RESULT_TYPES: ReadonlySet<string> = new Set(['6310', '6311']);
export const MASTER_DATA_REQUEST = '6300';

export function classifyRecords(records: readonly GdtRecord[]): FileClass {
  const types = records.map((r) => recordType(r) ?? '');
  if (types.length > 0 && types.every((t) => RESULT_TYPES.has(t))) return { kind: 'results', indexes: types.map((_, i) => i) };
  if (types.length === 1 && types[0] === MASTER_DATA_REQUEST) return { kind: 'master-data-request', index: 0 };
  const distinct = [...new Set(types)];
  if (distinct.some((t) => RESULT_TYPES.has(t) || t === MASTER_DATA_REQUEST)) {
    return { kind: 'reject', code: 'mixed-records', message: `the file mixes record types ${distinct.join(', ')}; expected only results (6310/6311) or one 6300` };
  }
  return {
    kind: 'reject',
    code: 'not-a-result',
    message: `record type ${distinct.join(', ')} is not something a device sends to the practice (expected 6310, 6311 or 6300)`,
  };
}

/**
 * A file that may still be growing although its stat stood still for the stability wait: its last
 * record is shorter than its 8100 says. Real writers get 8100 wrong (the spec's own example too), so
 * this only delays such a file (`incompleteWaitMs`), it never rejects it.
 */
export function looksIncomplete(parse: Pick<GdtParseResult, 'frames'>): boolean {
  const last = parse.frames[parse.frames.length - 1];
  return last !== undefined && last.declaredSize !== undefined && last.size < last.declaredSize;
}

export type Readiness = { ready: true } | { ready: false; retryInMs: number };

/**
 * When a parse failed or the file looks cut off, it is acted on only after it has been unchanged for
 * `incompleteWaitMs` (a device pausing mid-write must not get its file quarantined or imported half).
 */
export function readiness(suspicious: boolean, unchangedForMs: number, incompleteWaitMs: number): Readiness {
  if (!suspicious || unchangedForMs >= incompleteWaitMs) return { ready: true };
  return { ready: false, retryInMs: incompleteWaitMs - unchangedForMs };
}

/** Archive and quarantine names: a sortable UTC stamp first (retention reads it back), a content hash against collisions. */
export function archiveStamp(now: number): string {
  return new Date(now).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function archiveName(now: number, sha256: string, original: string): string {
  return `${archiveStamp(now)}-${sha256.slice(0, 12)}-${original}`;
}

export function attachmentArchiveName(resultArchiveName: string, index: number, original: string): string {
  const dot = resultArchiveName.indexOf('-', resultArchiveName.indexOf('-') + 1);
  return `${resultArchiveName.slice(0, dot)}-a${index + 1}-${original}`;
}

/** The time an archive or quarantine name was made, or undefined when the name is not ours. */
export function stampTime(name: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z-/.exec(name);
  if (m === null) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : t;
}

/** Names in archive/ or quarantine/ older than the retention. */
export function expiredNames(names: readonly string[], now: number, retentionDays: number): string[] {
  const limit = now - retentionDays * 86_400_000;
  return names.filter((n) => {
    const t = stampTime(n);
    return t !== undefined && t < limit;
  });
}
