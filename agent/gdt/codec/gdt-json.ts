import { invalidInput } from '../../core/errors.js';
import type { GdtParseResult } from './gdt-parser.js';
import { viewRecord } from './gdt-record-view.js';
import type { GdtRecordView } from './gdt-record-view.js';
import type { GdtIssue } from './gdt-issues.js';
import type { GdtCharset, GdtLineEnding, GdtRecord } from './gdt-record.js';

/**
 * The JSON shape of `praxisbox gdt parse --json`, and what `gdt write` reads back. The writer uses
 * only `records[].fields[].{id,value}`; line numbers, sizes, views and warnings are for people and
 * scripts reading the output, and ignored on input.
 */
export interface GdtJson {
  charset: GdtCharset;
  declaredCharset: string | null;
  lineEnding: GdtLineEnding;
  records: Array<{
    type: string;
    startLine: number;
    /** 8100 as the file had it (null when missing or unreadable). */
    declaredSize: number | null;
    /** The record's real size in bytes (CRLF counted as 2). */
    size: number;
    fields: Array<{ line: number; id: string; value: string }>;
    view: GdtRecordView;
  }>;
  warnings: GdtIssue[];
}

export function toGdtJson(result: GdtParseResult): GdtJson {
  return {
    charset: result.charset,
    declaredCharset: result.declaredCharset ?? null,
    lineEnding: result.lineEnding,
    records: result.records.map((record, i) => {
      const frame = result.frames[i];
      return {
        type: record.fields[0]?.value ?? '',
        startLine: frame?.startLine ?? 0,
        declaredSize: frame?.declaredSize ?? null,
        size: frame?.size ?? 0,
        fields: record.fields.map((f, j) => ({ line: frame?.fieldLines[j] ?? 0, id: f.id, value: f.value })),
        view: viewRecord(record),
      };
    }),
    warnings: result.warnings,
  };
}

/**
 * Reads records back from parsed JSON (the output of `toGdtJson`, or the same shape written by hand).
 * Errors say where (record and field index), never what the value was.
 */
export function recordsFromJson(input: unknown): GdtRecord[] {
  if (!isObject(input) || !Array.isArray(input['records'])) throw invalidInput('expected an object with a "records" array (the output of gdt parse --json)');
  return input['records'].map((rec: unknown, r) => {
    if (!isObject(rec) || !Array.isArray(rec['fields'])) throw invalidInput(`records[${r}] has no "fields" array`);
    return {
      fields: rec['fields'].map((f: unknown, i) => {
        if (!isObject(f) || typeof f['id'] !== 'string' || typeof f['value'] !== 'string') {
          throw invalidInput(`records[${r}].fields[${i}] needs a string "id" and a string "value"`);
        }
        return { id: f['id'], value: f['value'] };
      }),
    };
  });
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
