import { invalidInput } from '../../core/errors.js';
import { codePointName, encodeText, findUnencodable } from './gdt-charset.js';
import { CODE_BY_CHARSET, DEFAULT_CHARSET, FieldId, MAX_CONTENT_BYTES, MAX_RECORD_BYTES, declaredCharset } from './gdt-record.js';
import type { GdtField, GdtRecord, GdtWriteCharset } from './gdt-record.js';

export interface GdtWriteOptions {
  /**
   * Target charset. Default: what the first record declares in 9206, else CP437 (GDT's default).
   * Every record must declare it in 9206 (or declare nothing, for CP437): a file whose label lies is
   * what the parser has to guess around. `relabelCharset` sets 9206 for a conversion.
   */
  charset?: GdtWriteCharset;
}

/**
 * Free-text fields that may repeat, one line each (GDT 2.1: findings 6220, external findings 6221,
 * comment 6227, result table 6228, test remarks 8470, result text 8480). The writer spreads a long or
 * multi-line value over repeated lines of the same field; any other field must fit in one line.
 */
export const REPEATABLE_TEXT_FIELDS: ReadonlySet<string> = new Set(['6220', '6221', '6227', '6228', '8470', '8480']);

const NEWLINE = /\r\n|\r|\n/;
const FIELD_ID = /^\d{4}$/;
const CRLF = '\r\n';
const SIZE_LINE_BYTES = 14; // "014" + "8100" + 5 digits + CRLF

/**
 * Writes records as GDT bytes: CRLF line ends, every `LLL` computed in bytes of the target charset,
 * 8100 inserted as the record's second line with the record's byte size. Refuses (InvalidInput)
 * characters the charset cannot carry, fields longer than a line that are not free text, and records
 * larger than 8100 can express — never a silent `?`.
 */
export function writeGdt(records: readonly GdtRecord[], options: GdtWriteOptions = {}): Buffer {
  if (records.length === 0) throw invalidInput('nothing to write: no records');
  const charset = options.charset ?? declaredCharset(records[0] as GdtRecord) ?? DEFAULT_CHARSET;
  const parts: Buffer[] = [];
  records.forEach((record, index) => {
    checkLabel(record, index + 1, charset);
    parts.push(writeRecord(record, index + 1, charset));
  });
  return Buffer.concat(parts);
}

function writeRecord(record: GdtRecord, recordNo: number, charset: GdtWriteCharset): Buffer {
  const fields = record.fields;
  if (fields.length === 0 || fields[0]?.id !== FieldId.recordType) {
    throw invalidInput(`record ${recordNo} does not start with field 8000 (record type)`, { record: recordNo });
  }
  // All three charsets are single-byte and every character was checked to be encodable, so the
  // string's length is its byte length and one encode at the end serves the whole record.
  let head = '';
  let body = '';
  fields.forEach((field, i) => {
    const lines = fieldLines(field, recordNo, i + 1, charset);
    for (const content of lines) {
      const line = `${String(content.length + 9).padStart(3, '0')}${field.id}${content}${CRLF}`;
      if (i === 0) head += line;
      else body += line;
    }
  });
  const size = head.length + SIZE_LINE_BYTES + body.length;
  if (size > MAX_RECORD_BYTES) {
    throw invalidInput(`record ${recordNo} would be ${size} bytes; 8100 cannot express more than ${MAX_RECORD_BYTES}`, { record: recordNo });
  }
  return encodeText(`${head}014${FieldId.recordSize}${String(size).padStart(5, '0')}${CRLF}${body}`, charset);
}

function fieldLines(field: GdtField, recordNo: number, fieldNo: number, charset: GdtWriteCharset): string[] {
  const where = `record ${recordNo}, field ${fieldNo}`;
  if (typeof field.id !== 'string' || !FIELD_ID.test(field.id)) throw invalidInput(`${where}: field id is not 4 digits`, { record: recordNo, field: fieldNo });
  if (field.id === FieldId.recordSize) {
    throw invalidInput(`${where}: 8100 is computed by the writer and must not be given`, { record: recordNo, field: fieldNo });
  }
  if (typeof field.value !== 'string') throw invalidInput(`${where} (${field.id}): value is not text`, { record: recordNo, field: fieldNo });
  const value = field.value;
  const bad = findUnencodable(value, charset);
  if (bad !== -1) {
    throw invalidInput(`${where} (${field.id}): character ${codePointName(value, bad)} at position ${bad} cannot be written in ${charset}`, {
      record: recordNo,
      field: fieldNo,
      position: bad,
    });
  }
  const repeatable = REPEATABLE_TEXT_FIELDS.has(field.id);
  if (!repeatable) {
    if (NEWLINE.test(value)) throw invalidInput(`${where} (${field.id}): line break in a field that is not free text`, { record: recordNo, field: fieldNo });
    if (value.length > MAX_CONTENT_BYTES) {
      throw invalidInput(`${where} (${field.id}): ${value.length} bytes; a line holds at most ${MAX_CONTENT_BYTES}`, { record: recordNo, field: fieldNo });
    }
    return [value];
  }
  return value.split(NEWLINE).flatMap(splitLong);
}

/** Cuts text into pieces of at most 990 bytes, after a blank where one is near (the blank stays). */
export function splitLong(text: string): string[] {
  if (text.length <= MAX_CONTENT_BYTES) return [text];
  const out: string[] = [];
  let rest = text;
  while (rest.length > MAX_CONTENT_BYTES) {
    const blank = rest.lastIndexOf(' ', MAX_CONTENT_BYTES - 1);
    const cut = blank > 0 ? blank + 1 : MAX_CONTENT_BYTES;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  out.push(rest);
  return out;
}

function checkLabel(record: GdtRecord, recordNo: number, charset: GdtWriteCharset): void {
  const labels = record.fields.filter((f) => f.id === FieldId.charset);
  const code = CODE_BY_CHARSET[charset];
  if (labels.length === 0) {
    if (charset === DEFAULT_CHARSET) return;
    throw invalidInput(`record ${recordNo} has no 9206, so readers would take CP437; add 9206=${code} to write ${charset}`, { record: recordNo });
  }
  if (labels.some((f) => typeof f.value !== 'string' || f.value.trim() !== code)) {
    throw invalidInput(`record ${recordNo}: its 9206 does not declare ${charset} (code ${code})`, { record: recordNo });
  }
}

/**
 * Sets every record's 9206 to `charset` (for a charset conversion): replaces existing 9206 values,
 * and where there is none and `charset` is not the CP437 default, inserts one before 9218 (or after
 * 8000), where GDT writers usually put it.
 */
export function relabelCharset(records: readonly GdtRecord[], charset: GdtWriteCharset): GdtRecord[] {
  const code = CODE_BY_CHARSET[charset];
  return records.map((record) => {
    const has = record.fields.some((f) => f.id === FieldId.charset);
    if (has) return { fields: record.fields.map((f) => (f.id === FieldId.charset ? { id: f.id, value: code } : f)) };
    if (charset === DEFAULT_CHARSET) return record;
    const fields = [...record.fields];
    const at = fields.findIndex((f) => f.id === FieldId.version);
    fields.splice(at === -1 ? Math.min(1, fields.length) : at, 0, { id: FieldId.charset, value: code });
    return { fields };
  });
}
