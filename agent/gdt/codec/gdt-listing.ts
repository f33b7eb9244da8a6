import { fieldName, recordTypeName } from './gdt-field-names.js';
import { formatIssue } from './gdt-issues.js';
import type { GdtParseResult } from './gdt-parser.js';

/**
 * The human-readable listing of `praxisbox gdt parse` (without --json): header facts, then each
 * record's fields with line numbers and names, then the warnings. Control characters in values are
 * shown escaped — a hostile file must not be able to drive the terminal.
 */
export function formatGdtListing(result: GdtParseResult, fileName: string): string {
  const out: string[] = [];
  out.push(`file        ${fileName}`);
  out.push(`charset     ${describeCharset(result)}`);
  out.push(`line ends   ${result.lineEnding}`);
  out.push(`records     ${result.records.length}`);
  out.push(`warnings    ${result.warnings.length}`);
  result.records.forEach((record, i) => {
    const frame = result.frames[i];
    const type = record.fields[0]?.value ?? '';
    const typeName = recordTypeName(type) ?? 'unknown record type';
    out.push('');
    out.push(`record ${i + 1} of ${result.records.length}: ${escape(type)} ${typeName} (from line ${frame?.startLine ?? '?'})`);
    const declared = frame?.declaredSize === undefined ? '8100 missing or unreadable' : `8100 says ${frame.declaredSize}`;
    out.push(`  size ${frame?.size ?? '?'} bytes (${declared})`);
    out.push(`  ${'line'.padStart(5)}  field  ${'name'.padEnd(26)} value`);
    record.fields.forEach((f, j) => {
      const line = String(frame?.fieldLines[j] ?? '?').padStart(5);
      out.push(`  ${line}  ${f.id}   ${(fieldName(f.id) ?? '').padEnd(26)} ${escape(f.value)}`);
    });
  });
  if (result.warnings.length > 0) {
    out.push('');
    out.push('warnings:');
    for (const w of result.warnings) out.push(`  [${w.code}] ${formatIssue(w)}`);
  }
  return `${out.join('\n')}\n`;
}

function describeCharset(result: GdtParseResult): string {
  const label = result.declaredCharset;
  if (label === undefined) return result.charset === 'cp437' ? 'cp437 (no 9206: the GDT default)' : `${result.charset} (detected; no 9206)`;
  return label === result.charset ? `${result.charset} (9206)` : `${result.charset} (detected; 9206 declares ${label})`;
}

// C0 controls, DEL and C1 controls (matching control characters is the point here).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

function escape(value: string): string {
  return value.replace(CONTROL, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
