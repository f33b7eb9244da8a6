// The GDT codec's public surface: pure functions from bytes to records and back (no I/O).
export { parseGdt, DEFAULT_GDT_LIMITS } from './gdt-parser.js';
export type { GdtParseOptions, GdtParseResult, GdtRecordFrame } from './gdt-parser.js';
export { writeGdt, relabelCharset, splitLong, REPEATABLE_TEXT_FIELDS } from './gdt-writer.js';
export type { GdtWriteOptions } from './gdt-writer.js';
export { GdtRuleError, formatIssue } from './gdt-issues.js';
export type { GdtIssue, GdtIssueCode } from './gdt-issues.js';
export {
  FieldId,
  CHARSET_BY_CODE,
  CODE_BY_CHARSET,
  DEFAULT_CHARSET,
  GDT_WRITE_CHARSETS,
  MAX_CONTENT_BYTES,
  MAX_RECORD_BYTES,
  declaredCharset,
  fieldValue,
  fieldValues,
  recordType,
} from './gdt-record.js';
export type { GdtCharset, GdtField, GdtLineEnding, GdtRecord, GdtWriteCharset } from './gdt-record.js';
export { viewRecord, readPatient, gdtDateToIso } from './gdt-record-view.js';
export type {
  GdtAttachment,
  GdtExamination,
  GdtExaminationView,
  GdtFindings,
  GdtHeader,
  GdtMasterDataView,
  GdtPatient,
  GdtRecordView,
  GdtSex,
  GdtTest,
  GdtUnknownView,
} from './gdt-record-view.js';
export { GDT_RECORD_TYPES } from './gdt-record-checks.js';
export { fieldName, recordTypeName } from './gdt-field-names.js';
export { toGdtJson, recordsFromJson } from './gdt-json.js';
export type { GdtJson } from './gdt-json.js';
