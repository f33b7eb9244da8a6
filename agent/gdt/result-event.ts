import { patientData, type PatientData } from '../core/patient-data.js';
import { fieldValue, viewRecord } from './codec/index.js';
import type { GdtField, GdtFindings, GdtIssue, GdtParseResult, GdtPatient, GdtTest } from './codec/index.js';

/**
 * The `gdt.result` event (pure): one event per imported file, so that "imported" is one durable step.
 * Everything that names or describes the patient — patient fields, tests, findings, raw fields,
 * attachment names and contents — sits in `PatientData`, so no path to a log line can show it; the
 * outbox reveals it for the cloud.
 */
export interface ImportWarning {
  code: string;
  line?: number;
  field?: string;
  message: string;
}

export interface AttachmentOutcome {
  /** Which record of the file referenced it (0-based). */
  record: number;
  /** Position among the file's attachments (0-based), as named in warnings. */
  index: number;
  format?: string | undefined;
  description?: string | undefined;
  /** Base name on the box (may name the patient: kept inside PatientData in the event). */
  name?: string | undefined;
  /** The file was read: size, digest and content. */
  read?: { size: number; sha256: string; content: Buffer };
  /** Why it was not sent (no content); the message names no path. */
  problem?: { code: string; message: string; size?: number };
}

export interface ResultEventInput {
  deviceId: string;
  deviceName: string;
  importId: string;
  file: string;
  archiveFile: string;
  sha256: string;
  size: number;
  receivedAt: string;
  parse: GdtParseResult;
  indexes: readonly number[];
  orderIds: ReadonlyArray<string | undefined>;
  attachments: readonly AttachmentOutcome[];
  warnings: readonly ImportWarning[];
  reimport: boolean;
}

export interface ResultEntry {
  recordType: string;
  orderId?: string;
  testCode?: string;
  date?: string;
  time?: string;
  senderId?: string;
  receiverId?: string;
  patient: PatientData<GdtPatient>;
  tests: PatientData<GdtTest[]>;
  findings: PatientData<GdtFindings>;
  /** Every field of the record in file order (unknown ones too): the lossless form. */
  fields: PatientData<GdtField[]>;
}

export interface AttachmentEntry {
  record: number;
  type: string;
  format?: string;
  size?: number;
  sha256?: string;
  /** name, description and base64 content. */
  file: PatientData<{ name?: string; description?: string; content?: string }>;
  problem?: { code: string; message: string };
}

export interface ResultEventData {
  deviceId: string;
  deviceName: string;
  importId: string;
  orderId?: string;
  file: string;
  archiveFile: string;
  sha256: string;
  size: number;
  charset: string;
  gdtVersion?: string;
  receivedAt: string;
  reimport: boolean;
  results: ResultEntry[];
  attachments: AttachmentEntry[];
  warnings: ImportWarning[];
}

export function buildResultEvent(input: ResultEventInput): ResultEventData {
  const results = input.indexes.map((index, n) => resultEntry(input.parse, index, input.orderIds[n]));
  const firstOrder = input.orderIds.find((o) => o !== undefined);
  const version = input.parse.records[0] === undefined ? undefined : fieldValue(input.parse.records[0], '9218');
  return {
    deviceId: input.deviceId,
    deviceName: input.deviceName,
    importId: input.importId,
    ...(firstOrder !== undefined ? { orderId: firstOrder } : {}),
    file: input.file,
    archiveFile: input.archiveFile,
    sha256: input.sha256,
    size: input.size,
    charset: input.parse.charset,
    ...(version !== undefined ? { gdtVersion: version } : {}),
    receivedAt: input.receivedAt,
    reimport: input.reimport,
    results,
    attachments: input.attachments.map(attachmentEntry),
    warnings: [...input.parse.warnings.map(codecWarning), ...input.warnings],
  };
}

function resultEntry(parse: GdtParseResult, index: number, orderId: string | undefined): ResultEntry {
  const record = parse.records[index];
  if (record === undefined) throw new RangeError(`record ${index} does not exist`);
  const view = viewRecord(record);
  const exam = view.kind === 'results' || view.kind === 'show-results' ? view.examination : undefined;
  const entry: ResultEntry = {
    recordType: view.header.type,
    patient: patientData(view.patient),
    tests: patientData(exam?.tests ?? []),
    findings: patientData(exam?.findings ?? { text: [], externalText: [], comments: [], table: [] }),
    fields: patientData([...record.fields]),
  };
  if (orderId !== undefined) entry.orderId = orderId;
  if (exam?.testCode !== undefined) entry.testCode = exam.testCode;
  if (exam?.date !== undefined) entry.date = exam.date;
  if (exam?.time !== undefined) entry.time = exam.time;
  if (view.header.senderId !== undefined) entry.senderId = view.header.senderId;
  if (view.header.receiverId !== undefined) entry.receiverId = view.header.receiverId;
  return entry;
}

function attachmentEntry(a: AttachmentOutcome): AttachmentEntry {
  const file: { name?: string; description?: string; content?: string } = {};
  if (a.name !== undefined) file.name = a.name;
  if (a.description !== undefined) file.description = a.description;
  if (a.read !== undefined) file.content = a.read.content.toString('base64');
  const entry: AttachmentEntry = { record: a.record, type: mediaType(a.format, a.name), file: patientData(file) };
  if (a.format !== undefined) entry.format = a.format;
  const size = a.read?.size ?? a.problem?.size;
  if (size !== undefined) entry.size = size;
  if (a.read !== undefined) entry.sha256 = a.read.sha256;
  if (a.problem !== undefined) entry.problem = { code: a.problem.code, message: a.problem.message };
  return entry;
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  PDF: 'application/pdf',
  JPG: 'image/jpeg',
  JPEG: 'image/jpeg',
  PNG: 'image/png',
  TIF: 'image/tiff',
  TIFF: 'image/tiff',
  BMP: 'image/bmp',
  XML: 'application/xml',
  TXT: 'text/plain',
  DCM: 'application/dicom',
  HTML: 'text/html',
  HTM: 'text/html',
};

/** 6303 says the format (`PDF`); when it is missing, the extension does. */
export function mediaType(format: string | undefined, name: string | undefined): string {
  const fromFormat = format === undefined ? undefined : MEDIA_TYPES[format.trim().toUpperCase()];
  if (fromFormat !== undefined) return fromFormat;
  const ext = name === undefined ? undefined : /\.([A-Za-z0-9]+)$/.exec(name)?.[1]?.toUpperCase();
  return (ext === undefined ? undefined : MEDIA_TYPES[ext]) ?? 'application/octet-stream';
}

function codecWarning(w: GdtIssue): ImportWarning {
  return { code: w.code, line: w.line, ...(w.field !== undefined ? { field: w.field } : {}), message: w.message };
}

/** The request id a GDT 3 device echoes (8310), for the order match. */
export function requestIdOf(parse: GdtParseResult, index: number): string | undefined {
  const record = parse.records[index];
  return record === undefined ? undefined : fieldValue(record, '8310');
}
