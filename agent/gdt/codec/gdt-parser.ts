import { invalidInput } from '../../core/errors.js';
import { isUtf8 } from 'node:buffer';
import { decodeDinText, decodeEightBit, decodeUtf8Text, hasUtf8Bom, isAscii } from './gdt-charset.js';
import type { DecodedFile } from './gdt-charset.js';
import { readFields } from './gdt-field-reader.js';
import type { GdtRecordFrame } from './gdt-field-reader.js';
import { IssueList } from './gdt-issue-list.js';
import { GdtRuleError } from './gdt-issues.js';
import type { GdtIssue } from './gdt-issues.js';
import { findCharsetLabel, RecordChecks } from './gdt-record-checks.js';
import { CHARSET_BY_CODE, DEFAULT_CHARSET } from './gdt-record.js';
import type { GdtCharset, GdtLineEnding, GdtRecord, GdtWriteCharset } from './gdt-record.js';

export type { GdtRecordFrame };

export interface GdtParseOptions {
  /** Report rule breaks (wrong `LLL`, wrong 8100, LF line ends…) as a `GdtRuleError` instead of warnings. */
  strict?: boolean;
  /** Refuse files larger than this many bytes (default 8 MiB; one record is at most 99,999 bytes). */
  maxBytes?: number;
  /** Refuse files with more lines than this (default 200,000). */
  maxLines?: number;
}

export const DEFAULT_GDT_LIMITS = { maxBytes: 8 * 1024 * 1024, maxLines: 200_000 } as const;

export interface GdtParseResult {
  readonly records: GdtRecord[];
  /** Per record (same order): its lines and sizes. */
  readonly frames: GdtRecordFrame[];
  /** The charset the content was decoded with. */
  readonly charset: GdtCharset;
  /** What the file's first 9206 declares (undefined when missing or unknown: GDT then means CP437). */
  readonly declaredCharset: GdtWriteCharset | undefined;
  readonly lineEnding: GdtLineEnding;
  /** Rule breaks tolerated in lenient mode, in line order (always empty after a strict parse). */
  readonly warnings: GdtIssue[];
}

/**
 * Parses a GDT file: one or more records, each a run of lines starting at an 8000 line. Throws
 * `Corrupt` when the bytes are not GDT and `InvalidInput` past the limits; everything recoverable is
 * a warning (lenient, the default) or one `GdtRuleError` listing them all (strict).
 *
 * The lines are always split and checked on the bytes read as Latin-1 (or an equally long single-byte
 * decode), so every `LLL` and 8100 check counts bytes — also for UTF-8 under a wrong label.
 */
export function parseGdt(input: Uint8Array, options: GdtParseOptions = {}): GdtParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_GDT_LIMITS.maxBytes;
  const maxLines = options.maxLines ?? DEFAULT_GDT_LIMITS.maxLines;
  if (input.length > maxBytes) throw invalidInput(`GDT file is ${input.length} bytes; the limit is ${maxBytes}`, { limit: 'maxBytes' });

  // A UTF-8 byte order mark is dropped only where the rest really is UTF-8; elsewhere the first line
  // starts with three stray bytes and is reported as not a field.
  const bom = hasUtf8Bom(input) && isUtf8(input);
  const bytes = bom ? input.subarray(3) : input;
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const latin1 = buf.toString('latin1');
  const ascii = isAscii(buf);
  let decoded: DecodedFile | undefined;
  let text = latin1;
  if (!ascii) {
    const code = findCharsetLabel(latin1);
    decoded = decodeEightBit(buf, code === undefined ? undefined : CHARSET_BY_CODE[code], latin1, bom);
    text = decoded.text;
  }

  const issues = new IssueList();
  const checks = new RecordChecks(issues);
  const scan = readFields(text, maxLines, issues, checks);
  const label = checks.firstLabel;
  const declared = label === undefined ? undefined : CHARSET_BY_CODE[label.code];
  const charset = decoded?.charset ?? declared ?? DEFAULT_CHARSET;
  // 7-bit and UTF-8 fields are decoded after the split: DIN 66003 needs the label (found by the
  // split), and UTF-8 must be split on bytes so that `LLL` and 8100 are checked in bytes.
  if (charset === '7bit') mapValues(scan.records, decodeDinText);
  else if (charset === 'utf-8') mapValues(scan.records, decodeUtf8Text);
  if (bom && ascii) issues.add('charset-mismatch', 1, 'the file starts with a UTF-8 byte order mark (ignored: the rest is ASCII)');
  if (decoded?.mismatch !== undefined) issues.add('charset-mismatch', label?.line ?? 1, decoded.mismatch, label === undefined ? undefined : '9206');

  const warnings = issues.sorted(scan.lines);
  if (options.strict === true && warnings.length > 0) throw new GdtRuleError(warnings);
  return { records: scan.records, frames: scan.frames, charset, declaredCharset: declared, lineEnding: scan.lineEnding, warnings };
}

function mapValues(records: GdtRecord[], decode: (value: string) => string): void {
  for (let r = 0; r < records.length; r++) {
    const record = records[r] as GdtRecord;
    records[r] = { fields: record.fields.map((f) => ({ id: f.id, value: decode(f.value) })) };
  }
}
