import { invalidInput } from '../../core/errors.js';
import { corrupt } from './gdt-issues.js';
import type { IssueList } from './gdt-issue-list.js';
import type { RecordChecks } from './gdt-record-checks.js';
import type { GdtField, GdtLineEnding, GdtRecord } from './gdt-record.js';

/** Where a record sat in the file: what callers need to point at lines, and the sizes the parser checked. */
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

export interface FieldScan {
  records: GdtRecord[];
  frames: GdtRecordFrame[];
  lines: number;
  lineEnding: GdtLineEnding;
}

const DIGIT_0 = 48;

// Field ids as strings, shared across parses: a file has a few dozen distinct ids, so reusing the
// string saves an allocation per line. A memo of immutable strings, not state.
const idStrings: Array<string | undefined> = new Array<string | undefined>(10_000);

/**
 * The hot loop: splits `text` into lines at CRLF, LF or CR — never by trusting `LLL`, which real
 * files get wrong — and lines into fields, checking each `LLL` against the line's real length.
 * `text` must have one character per byte (Latin-1 or a single-byte decode), so that offsets are byte
 * counts. Deliberately one flat function with local state and no closures over it: it runs once per
 * line, and variables captured by a closure live in a heap context instead of registers.
 */
export function readFields(text: string, maxLines: number, issues: IssueList, checks: RecordChecks): FieldScan {
  const records: GdtRecord[] = [];
  const frames: GdtRecordFrame[] = [];
  let fields: GdtField[] = [];
  let fieldLines: number[] = [];
  let startLine = 0;
  let size = 0;
  let declaredSize: number | undefined;
  let sizeSeen = false;

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
    // Two cursors, so that a lone CR or LF in a CRLF file still ends its line.
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
        if (crOnly++ === 0 && lfOnly === 0) issues.add('line-ending', line + 1, 'line ends in CR instead of CRLF');
      }
    } else if (nextLF !== -1) {
      end = nextLF;
      next = end + 1;
      if (lfOnly++ === 0 && crOnly === 0) issues.add('line-ending', line + 1, 'line ends in LF instead of CRLF');
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
    // `>>> 0` turns characters below '0' into huge numbers, so one compare checks both bounds.
    if (len < 7 || !(d0 >>> 0 <= 9 && d1 >>> 0 <= 9 && d2 >>> 0 <= 9 && d3 >>> 0 <= 9)) {
      if (isBlank(text, pos, end)) {
        issues.add('blank-line', line, 'empty line');
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
    const lineBytes = len + 2;
    const l0 = text.charCodeAt(pos) - DIGIT_0;
    const l1 = text.charCodeAt(pos + 1) - DIGIT_0;
    const l2 = text.charCodeAt(pos + 2) - DIGIT_0;
    if (l0 * 100 + l1 * 10 + l2 !== lineBytes || !(l0 >>> 0 <= 9 && l1 >>> 0 <= 9 && l2 >>> 0 <= 9)) {
      issues.add('length-prefix', line, lengthMessage(text.substring(pos, pos + 3), lineBytes), id);
    }
    if (num === 8000) {
      if (startLine !== 0) {
        records.push({ fields });
        frames.push({ startLine, fieldLines, declaredSize, size });
        checks.endRecord(fields, startLine, size);
      }
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
      if (sizeSeen) issues.add('record-size', line, 'second 8100 in one record (ignored)', id);
      else {
        if (fields.length !== 1) issues.add('field-order', line, '8100 is not the second line of its record', id);
        declaredSize = checks.declaredSize(text.substring(pos + 7, end), line);
        sizeSeen = true;
      }
    } else {
      const value = len === 7 ? '' : text.substring(pos + 7, end);
      if (num === 9206 || num === 9218) checks.headerField(num, value, line);
      fields.push({ id, value });
      fieldLines.push(line);
    }
    pos = next;
  }
  if (startLine !== 0) {
    records.push({ fields });
    frames.push({ startLine, fieldLines, declaredSize, size });
    checks.endRecord(fields, startLine, size);
  }
  if (records.length === 0) throw corrupt('the file holds no GDT record');
  if (!lastBreak) issues.add('final-newline', line, 'the last line has no line break');
  const lineEnding: GdtLineEnding =
    crlf + lfOnly + crOnly === 0 ? 'none' : lfOnly + crOnly === 0 ? 'crlf' : crlf + crOnly === 0 ? 'lf' : crlf + lfOnly === 0 ? 'cr' : 'mixed';
  return { records, frames, lines: line, lineEnding };
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    // Space, tab, and DOS's end-of-file mark (0x1A) that old writers append.
    if (c !== 0x20 && c !== 0x09 && c !== 0x1a) return false;
  }
  return true;
}

function lengthMessage(prefix: string, lineBytes: number): string {
  return /^\d{3}$/.test(prefix)
    ? `length prefix says ${Number(prefix)} bytes, the line has ${lineBytes} (content + 9)`
    : `length prefix is not a 3-digit number; the line has ${lineBytes} bytes (content + 9)`;
}
