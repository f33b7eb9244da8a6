import type { GdtField } from './gdt-record.js';

/**
 * One test of a result record: a group that starts at 8410 (test id) and runs over the fields of
 * the 84xx test block until the next 8410 (GDT 2.1 "Testbezogene Felder").
 */
export interface GdtTest {
  /** 8410 */
  id?: string;
  /** 8411 */
  name?: string;
  /** 8418 */
  status?: string;
  /** 8420 as written (decimal comma or point, as the device sends it). */
  value?: string;
  /** 8421 */
  unit?: string;
  /** 8432 (TTMMJJJJ) */
  date?: string;
  /** 8439 (HHMMSS) */
  time?: string;
  /** 8460 */
  normalText?: string;
  /** 8461 */
  normalLow?: string;
  /** 8462 */
  normalHigh?: string;
  /** 8470, one entry per line. */
  remarks: string[];
  /** 8480, one entry per line. */
  resultText: string[];
  /** Other fields of the test block (84xx) and repeats of single-valued ones, in order. */
  other: GdtField[];
}

/** Free text of a result, one entry per line as sent (lines may be empty; table lines keep their blanks). */
export interface GdtFindings {
  /** 6220 Befund */
  text: string[];
  /** 6221 Fremdbefund */
  externalText: string[];
  /** 6227 Kommentar */
  comments: string[];
  /** 6228 Ergebnistabellentext: preformatted lines. */
  table: string[];
}

/** A file the device stored beside the record (6302–6305). */
export interface GdtAttachment {
  /** 6302 archive number */
  archiveNumber?: string;
  /** 6303 format, e.g. `PDF` */
  format?: string;
  /** 6304 description of the content */
  description?: string;
  /** 6305 path as the device PC sees it (a Windows path; the folder I/O maps it). */
  path?: string;
}

const TEST_SINGLE: Readonly<Record<string, Exclude<keyof GdtTest, 'remarks' | 'resultText' | 'other' | 'id'>>> = {
  '8411': 'name',
  '8418': 'status',
  '8420': 'value',
  '8421': 'unit',
  '8432': 'date',
  '8439': 'time',
  '8460': 'normalText',
  '8461': 'normalLow',
  '8462': 'normalHigh',
};

const isTestBlockField = (id: string): boolean => id >= '8410' && id <= '8499';

export function readTests(fields: readonly GdtField[]): GdtTest[] {
  const tests: GdtTest[] = [];
  let current: GdtTest | undefined;
  for (const f of fields) {
    if (!isTestBlockField(f.id)) continue;
    if (f.id === '8410' || current === undefined) {
      current = { remarks: [], resultText: [], other: [] };
      tests.push(current);
      if (f.id === '8410') {
        current.id = f.value;
        continue;
      }
    }
    const key = TEST_SINGLE[f.id];
    if (key !== undefined && current[key] === undefined) current[key] = f.value;
    else if (f.id === '8470') current.remarks.push(f.value);
    else if (f.id === '8480') current.resultText.push(f.value);
    else current.other.push(f);
  }
  return tests;
}

export function readFindings(fields: readonly GdtField[]): GdtFindings {
  const findings: GdtFindings = { text: [], externalText: [], comments: [], table: [] };
  for (const f of fields) {
    if (f.id === '6220') findings.text.push(f.value);
    else if (f.id === '6221') findings.externalText.push(f.value);
    else if (f.id === '6227') findings.comments.push(f.value);
    else if (f.id === '6228') findings.table.push(f.value);
  }
  return findings;
}

const ATTACHMENT_KEY: Readonly<Record<string, keyof GdtAttachment>> = {
  '6302': 'archiveNumber',
  '6303': 'format',
  '6304': 'description',
  '6305': 'path',
};

/**
 * Groups 6302–6305 into attachments. Writers omit some of the four (6302 is often missing), so a
 * new attachment starts when a field comes that the current one already has or that comes earlier
 * in 6302…6305 order than the last one seen.
 */
export function readAttachments(fields: readonly GdtField[]): GdtAttachment[] {
  const out: GdtAttachment[] = [];
  let current: GdtAttachment | undefined;
  let last = '';
  for (const f of fields) {
    const key = ATTACHMENT_KEY[f.id];
    if (key === undefined) continue;
    if (current === undefined || current[key] !== undefined || f.id < last) {
      current = {};
      out.push(current);
    }
    current[key] = f.value;
    last = f.id;
  }
  return out;
}
