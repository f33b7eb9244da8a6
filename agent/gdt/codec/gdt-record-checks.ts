import type { IssueList } from './gdt-issue-list.js';
import { CHARSET_BY_CODE, MAX_RECORD_BYTES } from './gdt-record.js';
import type { GdtField } from './gdt-record.js';

/** Record types GDT defines (2.1, plus 6303 "cancel order" from 3.0). */
export const GDT_RECORD_TYPES: ReadonlySet<string> = new Set(['6300', '6301', '6302', '6303', '6310', '6311']);

// 02.10 is GDT 2.1, 02.00 the older 2.0 (QPCnet's sample); 3.x files are read with the same rules.
const KNOWN_VERSION = /^(?:02\.[01]0|03\.\d\d)$/;

/**
 * The per-record rules the parser checks besides line lengths: 8100 against the measured size,
 * the record type, 9218 and 9206. Kept apart from the hot line loop, which calls in only for the few
 * header fields.
 */
export class RecordChecks {
  readonly #issues: IssueList;
  #fileCharsetCode: string | undefined;
  #sizeLine = 0;
  #sizeReadable = false;
  #declaredSize = 0;
  #versionSeen = false;

  /** Line and code of the file's first 9206 (the one the whole file is read with). */
  firstLabel: { line: number; code: string } | undefined;

  constructor(issues: IssueList) {
    this.#issues = issues;
  }

  startRecord(): void {
    this.#sizeLine = 0;
    this.#sizeReadable = false;
    this.#versionSeen = false;
  }

  /** The value of 8100 as a number, or undefined (with a warning) when it is not 5 digits. */
  declaredSize(value: string, line: number): number | undefined {
    this.#sizeLine = line;
    if (!isFiveDigits(value)) {
      this.#issues.add('record-size', line, '8100 is not a 5-digit number', '8100');
      return undefined;
    }
    this.#sizeReadable = true;
    this.#declaredSize = Number(value);
    return this.#declaredSize;
  }

  headerField(num: number, value: string, line: number): void {
    if (num === 9218) {
      this.#versionSeen = true;
      if (!KNOWN_VERSION.test(value.trim())) this.#issues.add('version', line, 'GDT version is not 02.00, 02.10 or 03.xx', '9218');
      return;
    }
    const code = value.trim();
    if (this.firstLabel === undefined) {
      this.firstLabel = { line, code };
      this.#fileCharsetCode = code;
    }
    if (CHARSET_BY_CODE[code] === undefined) {
      this.#issues.add('charset-label', line, '9206 holds no known charset code (1, 2 or 3)', '9206');
    } else if (this.#fileCharsetCode !== undefined && code !== this.#fileCharsetCode) {
      this.#issues.add('charset-label', line, "9206 differs from the file's first 9206; the whole file is read with the first", '9206');
    }
  }

  endRecord(fields: readonly GdtField[], startLine: number, size: number): void {
    const type = fields[0]?.value ?? '';
    if (!GDT_RECORD_TYPES.has(type)) this.#issues.add('record-type', startLine, 'record type is not one GDT defines (6300–6303, 6310, 6311)', '8000');
    if (!this.#versionSeen) this.#issues.add('version', startLine, 'record has no 9218 (GDT version)');
    if (this.#sizeLine === 0) this.#issues.add('record-size', startLine, `record has no 8100; it is ${size} bytes`);
    else if (this.#sizeReadable && this.#declaredSize !== size) {
      this.#issues.add('record-size', this.#sizeLine, `8100 says ${this.#declaredSize} bytes, the record has ${size}`, '8100');
    }
    if (size > MAX_RECORD_BYTES) this.#issues.add('record-size', startLine, `record is ${size} bytes; 8100 cannot express more than ${MAX_RECORD_BYTES}`);
  }
}

/**
 * The code in the first 9206 that starts a line — looked up before decoding, since it says how to
 * decode. Only files with 8-bit bytes need it (ASCII reads the same in every charset but DIN 66003,
 * which the parser fixes up afterwards), so most files skip this scan.
 */
export function findCharsetLabel(latin1: string): string | undefined {
  let at = latin1.indexOf('9206');
  while (at !== -1) {
    const lineStart = at - 3;
    const before = lineStart - 1;
    if (lineStart >= 0 && isDigits3(latin1, lineStart) && (before < 0 || isBreak(latin1.charCodeAt(before)))) {
      let end = at + 4;
      while (end < latin1.length && !isBreak(latin1.charCodeAt(end))) end++;
      return latin1.substring(at + 4, end).trim();
    }
    at = latin1.indexOf('9206', at + 1);
  }
  return undefined;
}

function isFiveDigits(value: string): boolean {
  if (value.length !== 5) return false;
  for (let i = 0; i < 5; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isDigits3(s: string, at: number): boolean {
  for (let i = at; i < at + 3; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const isBreak = (c: number): boolean => c === 10 || c === 13;
