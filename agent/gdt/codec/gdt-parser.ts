import { invalidInput } from '../../core/errors.js';
import { chooseCharset, decodeBytes, hasUtf8Bom, isAscii } from './gdt-charset.js';
import { corrupt, GdtRuleError, MAX_KEPT_ISSUES } from './gdt-issues.js';
import type { GdtIssue, GdtIssueCode } from './gdt-issues.js';
import { findCharsetLabel, RecordChecks } from './gdt-record-checks.js';
import { CHARSET_BY_CODE } from './gdt-record.js';
import type { GdtCharset, GdtField, GdtLineEnding, GdtRecord, GdtWriteCharset } from './gdt-record.js';

export interface GdtParseOptions {
  /** Report rule breaks (wrong `LLL`, wrong 8100, LF line ends…) as a `GdtRuleError` instead of warnings. */
  strict?: boolean;
  /** Refuse files larger than this many bytes (default 8 MiB; a record is at most 99,999 bytes). */
  maxBytes?: number;
  /** Refuse files with more lines than this (default 200,000). */
  maxLines?: number;
}

export const DEFAULT_GDT_LIMITS = { maxBytes: 8 * 1024 * 1024, maxLines: 200_000 } as const;

/** Where a record sat in the file: what the parser needs to point at lines, and the sizes it checked. */
export interface GdtRecordFrame {
  /** Line of the record's 8000. */
  readonly startLine: number;
  /** Line number of each field in `fields` (same order). */
  readonly fieldLines: readonly number[];
  /** The 8100 value, if the record had a readable one. */
  readonly declaredSize: number | undefined;
  /** The record's size in bytes as GDT counts it: every line's content + 9 (CRLF counted as 2). */
  readonly size: number;
}

export interface GdtParseResult {
  readonly records: GdtRecord[];
  readonly frames: GdtRecordFrame[];
  /** The charset the content was decoded with. */
  readonly charset: GdtCharset;
  /** What the first 9206 said (undefined when missing or unknown: GDT then means CP437). */
  readonly declaredCharset: GdtWriteCharset | undefined;
  readonly lineEnding: GdtLineEnding;
  /** Rule breaks tolerated in lenient mode (always empty after a strict parse). */
  readonly warnings: GdtIssue[];
}

const DIGIT_0 = 48;

// Field ids as strings, shared across parses: a record is mostly a few dozen distinct ids, so
// reusing the string saves an allocation per line (measured ~10 % of parse time).
const idStrings: Array<string | undefined> = new Array<string | undefined>(10_000);

/**
 * Parses a GDT file: one or more records, each a run of lines starting at an 8000 line. Lines are
 * split at line breaks (CRLF, LF or CR), never by trusting `LLL` — real files get it wrong (see the
 * fixture notes). Throws `Corrupt` when the bytes are not GDT and `InvalidInput` past the limits;
 * everything recoverable becomes a warning (lenient) or one `GdtRuleError` (strict).
 */
export function parseGdt(input: Uint8Array, options: GdtParseOptions = {}): GdtParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_GDT_LIMITS.maxBytes;
  const maxLines = options.maxLines ?? DEFAULT_GDT_LIMITS.maxLines;
  if (input.length > maxBytes) throw invalidInput(`GDT file is ${input.length} bytes; the limit is ${maxBytes}`, { limit: 'maxBytes' });

  const bom = hasUtf8Bom(input);
  const bytes = bom ? input.subarray(3) : input;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const latin1 = buf.toString('latin1');
  const ascii = isAscii(buf);
  const label = findCharsetLabel(latin1);
  const declared = label === undefined ? undefined : CHARSET_BY_CODE[label.code.trim()];
  const choice = bom && !ascii ? { charset: 'utf-8' as const, mismatch: 'the file starts with a UTF-8 byte order mark' } : chooseCharset(buf, declared, ascii);
  const text = decodeBytes(buf, choice.charset, latin1, ascii);

  const warnings: GdtIssue[] = [];
  let dropped = 0;
  const warn = (code: GdtIssueCode, line: number, message: string, field?: string): void => {
    if (warnings.length < MAX_KEPT_ISSUES) warnings.push(field === undefined ? { code, line, message } : { code, line, field, message });
    else dropped++;
  };
  if (bom && ascii) warn('charset-mismatch', 1, 'the file starts with a UTF-8 byte order mark (ignored)');
  if (choice.mismatch !== undefined) warn('charset-mismatch', label?.line ?? 1, choice.mismatch, label === undefined ? undefined : '9206');

  const multiByte = choice.charset === 'utf-8';
  const records: GdtRecord[] = [];
  const frames: GdtRecordFrame[] = [];
  const checks = new RecordChecks(warn, declared, label?.code);
  let fields: GdtField[] = [];
  let fieldLines: number[] = [];
  let startLine = 0;
  let size = 0;
  let declaredSize: number | undefined;
  let sizeSeen = false;
  const closeRecord = (): void => {
    if (startLine === 0) return;
    records.push({ fields });
    frames.push({ startLine, fieldLines, declaredSize, size });
    checks.endRecord(fields, startLine, size);
  };

  const n = text.length;
  let pos = 0;
  let line = 0;
  let nextLF = text.indexOf('\n');
  let nextCR = text.indexOf('\r');
  let crlf = 0;
  let lfOnly = 0;
  let crOnly = 0;
  let lastBreak = true;
  while (pos < n) {
    if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf('\n', pos);
    if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf('\r', pos);
    let end: number;
    let next: number;
    if (nextCR !== -1 && (nextLF === -1 || nextCR < nextLF)) {
      end = nextCR;
      if (nextLF === end + 1) {
        next = end + 2;
        crlf++;
      } else {
        next = end + 1;
        if (crOnly++ === 0 && lfOnly === 0) warn('line-ending', line + 1, 'line ends in CR instead of CRLF');
      }
    } else if (nextLF !== -1) {
      end = nextLF;
      next = end + 1;
      if (lfOnly++ === 0 && crOnly === 0) warn('line-ending', line + 1, 'line ends in LF instead of CRLF');
    } else {
      end = n;
      next = n;
      lastBreak = false;
    }
    line++;
    if (line > maxLines) throw invalidInput(`GDT file has more than ${maxLines} lines`, { limit: 'maxLines' });
    const len = end - pos;
    const d0 = text.charCodeAt(pos + 3) - DIGIT_0;
    const d1 = text.charCodeAt(pos + 4) - DIGIT_0;
    const d2 = text.charCodeAt(pos + 5) - DIGIT_0;
    const d3 = text.charCodeAt(pos + 6) - DIGIT_0;
    // Unsigned compare: also rejects NaN (past the end) and characters below '0'.
    if (len < 7 || !(d0 >>> 0 <= 9 && d1 >>> 0 <= 9 && d2 >>> 0 <= 9 && d3 >>> 0 <= 9)) {
      if (isBlank(text, pos, end)) {
        warn('blank-line', line, 'empty line');
        pos = next;
        continue;
      }
      throw corrupt(`line ${line} is not a GDT field (needs a 3-digit length and a 4-digit field id)`, { line });
    }
    const num = d0 * 1000 + d1 * 100 + d2 * 10 + d3;
    let id = idStrings[num];
    if (id === undefined) {
      id = text.substring(pos + 3, pos + 7);
      idStrings[num] = id;
    }
    const value = len === 7 ? '' : text.substring(pos + 7, end);
    const lineBytes = (multiByte ? Buffer.byteLength(value, 'utf8') : len - 7) + 9;
    const l0 = text.charCodeAt(pos) - DIGIT_0;
    const l1 = text.charCodeAt(pos + 1) - DIGIT_0;
    const l2 = text.charCodeAt(pos + 2) - DIGIT_0;
    if (l0 * 100 + l1 * 10 + l2 !== lineBytes || !(l0 >>> 0 <= 9 && l1 >>> 0 <= 9 && l2 >>> 0 <= 9)) {
      warn('length-prefix', line, lengthMessage(text, pos, lineBytes), id);
    }
    if (num === 8000) {
      closeRecord();
      fields = [];
      fieldLines = [];
      startLine = line;
      size = 0;
      declaredSize = undefined;
      sizeSeen = false;
      checks.startRecord();
    } else if (startLine === 0) {
      throw corrupt(`line ${line}: the file does not start with a record (field 8000)`, { line });
    }
    size += lineBytes;
    if (num === 8100) {
      // Framing, not data: the writer recomputes it (see gdt-record.ts).
      if (sizeSeen) warn('record-size', line, 'second 8100 in one record (ignored)', id);
      else {
        if (fields.length !== 1) warn('field-order', line, '8100 is not the second line of its record', id);
        declaredSize = checks.declaredSize(value, line);
        sizeSeen = true;
      }
    } else {
      if (num === 9206 || num === 9218) checks.headerField(num, value, line);
      fields.push({ id, value });
      fieldLines.push(line);
    }
    pos = next;
  }
  closeRecord();
  if (records.length === 0) throw corrupt('the file holds no GDT record');
  if (!lastBreak) warn('final-newline', line, 'the last line has no line break');
  if (dropped > 0) warn('too-many-issues', line, `${dropped} more issues not listed`);

  const lineEnding: GdtLineEnding =
    crlf + lfOnly + crOnly === 0 ? 'none' : lfOnly + crOnly === 0 ? 'crlf' : crlf + crOnly === 0 ? 'lf' : crlf + lfOnly === 0 ? 'cr' : 'mixed';
  // Record-level checks run at each record's end; report in line order like a reader expects.
  warnings.sort((a, b) => a.line - b.line);
  if (options.strict === true && warnings.length > 0) throw new GdtRuleError(warnings);
  return { records, frames, charset: choice.charset, declaredCharset: declared, lineEnding, warnings };
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // Space, tab, and DOS's end-of-file mark (0x1A) that old writers append.
    if (c !== 0x20 && c !== 0x09 && c !== 0x1a) return false;
  }
  return true;
}

function lengthMessage(text: string, pos: number, lineBytes: number): string {
  const prefix = text.substring(pos, pos + 3);
  return /^\d{3}$/.test(prefix)
    ? `length prefix says ${Number(prefix)} bytes, the line has ${lineBytes} (content + 9)`
    : `length prefix is not a 3-digit number; the line has ${lineBytes} bytes (content + 9)`;
}

