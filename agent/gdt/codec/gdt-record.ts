/**
 * The GDT record model. A record is its fields in file order — every field, known or not, so that
 * whatever a device or practice system sends survives a round trip. Two things are *not* fields of
 * the model: the `LLL` line prefix and the 8100 record size. Both are framing computed from the bytes
 * (the writer recomputes them), so keeping them as data would make `parse(write(x))` differ from `x`
 * whenever someone built or edited a record. The parser reports the declared 8100 in the record's
 * frame instead.
 */
export interface GdtField {
  /** The 4-digit field id, e.g. `3101` (a string: ids like `0211` keep their leading zero). */
  readonly id: string;
  /** The decoded content, exactly as in the file (trailing blanks kept: 6228 table lines need them). */
  readonly value: string;
}

export interface GdtRecord {
  /** All fields in order, starting with 8000 (the record type); 8100 is never among them. */
  readonly fields: readonly GdtField[];
}

/** Charsets a GDT file can be read in. `utf-8` is only ever detected (writers mislabel it), never declared. */
export type GdtCharset = '7bit' | 'cp437' | 'iso-8859-1' | 'utf-8';
/** Charsets the writer produces: the three GDT 2.1 defines in field 9206. */
export type GdtWriteCharset = Exclude<GdtCharset, 'utf-8'>;
export const GDT_WRITE_CHARSETS: readonly GdtWriteCharset[] = ['7bit', 'cp437', 'iso-8859-1'];

export type GdtLineEnding = 'crlf' | 'lf' | 'cr' | 'mixed' | 'none';

/** Field ids the codec itself interprets. */
export const FieldId = {
  recordType: '8000',
  recordSize: '8100',
  receiverId: '8315',
  senderId: '8316',
  charset: '9206',
  version: '9218',
} as const;

/** GDT 9206 codes (GDT 2.1 §"Zeichensatz"); 2 (CP437) applies when the field is missing. */
export const CHARSET_BY_CODE: Readonly<Record<string, GdtWriteCharset>> = { '1': '7bit', '2': 'cp437', '3': 'iso-8859-1' };
export const CODE_BY_CHARSET: Readonly<Record<GdtWriteCharset, string>> = { '7bit': '1', cp437: '2', 'iso-8859-1': '3' };
export const DEFAULT_CHARSET: GdtWriteCharset = 'cp437';

/** The content of a line is at most 990 bytes: `LLL` is 3 digits and counts its own 9 framing bytes. */
export const MAX_CONTENT_BYTES = 999 - 9;
/** 8100 has 5 digits. */
export const MAX_RECORD_BYTES = 99_999;

/** The value of the first field with `id`, if any. */
export function fieldValue(record: GdtRecord, id: string): string | undefined {
  for (const f of record.fields) if (f.id === id) return f.value;
  return undefined;
}

/** Values of every field with `id`, in order. */
export function fieldValues(record: GdtRecord, id: string): string[] {
  const out: string[] = [];
  for (const f of record.fields) if (f.id === id) out.push(f.value);
  return out;
}

/** The record type (8000), e.g. `6310`. */
export function recordType(record: GdtRecord): string | undefined {
  const first = record.fields[0];
  return first?.id === FieldId.recordType ? first.value : undefined;
}

/** The charset a record declares in 9206, if it declares a known one. */
export function declaredCharset(record: GdtRecord): GdtWriteCharset | undefined {
  const code = fieldValue(record, FieldId.charset);
  return code === undefined ? undefined : CHARSET_BY_CODE[code.trim()];
}
