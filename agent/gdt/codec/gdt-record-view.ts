import { fieldValue, FieldId } from './gdt-record.js';
import type { GdtField, GdtRecord } from './gdt-record.js';
import { readAttachments, readFindings, readTests } from './gdt-result-view.js';
import type { GdtAttachment, GdtFindings, GdtTest } from './gdt-result-view.js';

export type { GdtAttachment, GdtFindings, GdtTest };

/**
 * Typed views over a record's raw fields. The fields stay the source of truth (a view is computed,
 * never stored), so unknown fields and field order survive. Everything in a view that names a
 * person is patient data: events carry views wrapped in `PatientData`.
 */
export interface GdtHeader {
  /** 8000, e.g. `6310`. */
  type: string;
  /** 8315: GDT id of the receiver (≤ 8 characters by the spec; real systems send longer ones). */
  receiverId?: string;
  /** 8316: GDT id of the sender. */
  senderId?: string;
  /** 9206 as written (1, 2, 3). */
  charsetCode?: string;
  /** 9218, e.g. `02.10`. */
  version?: string;
}

export type GdtSex = 'male' | 'female' | 'diverse' | 'unspecified' | 'unknown';

export interface GdtPatient {
  /** 3000: patient number in the practice system. */
  number?: string;
  /** 3100: name affix (Namenszusatz, e.g. "von"). */
  nameAffix?: string;
  /** 3101 */
  surname?: string;
  /** 3102 */
  firstName?: string;
  /** 3103 as written, TTMMJJJJ. */
  birthDate?: string;
  /** 3103 as ISO 8601 (YYYY-MM-DD), when it is a real date. */
  birthDateIso?: string;
  /** 3104 */
  title?: string;
  /** 3105 */
  insuranceNumber?: string;
  /** 3106: postcode and town. */
  residence?: string;
  /** 3107 */
  street?: string;
  /** 3108: insured-person type (1 member, 3 family, 5 pensioner). */
  insuredType?: string;
  /** 3110 as written (GDT 2.1: 1 m, 2 w; GDT 3: M, W, D, X). */
  sexCode?: string;
  sex?: GdtSex;
  /** 3622: height in cm, as written. */
  height?: string;
  /** 3623: weight in kg, as written. */
  weight?: string;
}

/** What 6302/6303 (order, cancellation) and 6310/6311 (results) carry besides the patient. */
export interface GdtExamination {
  /** 8402: device and test (EKG01, LUFU01, BDM01, or a practice's own). */
  testCode?: string;
  /** 6200 as written (TTMMJJJJ). */
  date?: string;
  /** 6201 as written (HHMMSS). */
  time?: string;
  tests: GdtTest[];
  findings: GdtFindings;
  attachments: GdtAttachment[];
}

interface ViewBase {
  header: GdtHeader;
  patient: GdtPatient;
}
export interface GdtMasterDataView extends ViewBase {
  /** 6300: the device asks for master data; 6301: the practice system sends them. */
  kind: 'request-master-data' | 'master-data';
}
export interface GdtExaminationView extends ViewBase {
  /** 6302 new order, 6303 cancel order (GDT 3), 6310 results, 6311 show results. */
  kind: 'order' | 'cancel-order' | 'results' | 'show-results';
  examination: GdtExamination;
}
export interface GdtUnknownView extends ViewBase {
  kind: 'unknown';
}
export type GdtRecordView = GdtMasterDataView | GdtExaminationView | GdtUnknownView;

const KIND_BY_TYPE = {
  '6300': 'request-master-data',
  '6301': 'master-data',
  '6302': 'order',
  '6303': 'cancel-order',
  '6310': 'results',
  '6311': 'show-results',
} as const;

export function viewRecord(record: GdtRecord): GdtRecordView {
  const type = record.fields[0]?.id === FieldId.recordType ? record.fields[0].value : '';
  const header = readHeader(record, type);
  const patient = readPatient(record.fields);
  const kind = (KIND_BY_TYPE as Record<string, GdtRecordView['kind'] | undefined>)[type] ?? 'unknown';
  if (kind === 'request-master-data' || kind === 'master-data') return { kind, header, patient };
  if (kind === 'unknown') return { kind, header, patient };
  return { kind, header, patient, examination: readExamination(record.fields) };
}

function readHeader(record: GdtRecord, type: string): GdtHeader {
  const header: GdtHeader = { type };
  assign(header, 'receiverId', fieldValue(record, FieldId.receiverId));
  assign(header, 'senderId', fieldValue(record, FieldId.senderId));
  assign(header, 'charsetCode', fieldValue(record, FieldId.charset));
  assign(header, 'version', fieldValue(record, FieldId.version));
  return header;
}

const PATIENT_FIELDS: ReadonlyArray<readonly [string, keyof GdtPatient]> = [
  ['3000', 'number'],
  ['3100', 'nameAffix'],
  ['3101', 'surname'],
  ['3102', 'firstName'],
  ['3103', 'birthDate'],
  ['3104', 'title'],
  ['3105', 'insuranceNumber'],
  ['3106', 'residence'],
  ['3107', 'street'],
  ['3108', 'insuredType'],
  ['3110', 'sexCode'],
  ['3622', 'height'],
  ['3623', 'weight'],
];
const PATIENT_KEY = new Map(PATIENT_FIELDS);

export function readPatient(fields: readonly GdtField[]): GdtPatient {
  const patient: GdtPatient = {};
  for (const f of fields) {
    const key = PATIENT_KEY.get(f.id);
    // The first occurrence counts; a repeated patient field is kept in the raw fields only.
    if (key !== undefined && patient[key] === undefined) (patient as Record<string, string>)[key] = f.value;
  }
  assign(patient, 'birthDateIso', patient.birthDate === undefined ? undefined : gdtDateToIso(patient.birthDate));
  assign(patient, 'sex', patient.sexCode === undefined ? undefined : SEX[patient.sexCode.trim().toUpperCase()]);
  return patient;
}

const SEX: Readonly<Record<string, GdtSex>> = { '1': 'male', M: 'male', '2': 'female', W: 'female', D: 'diverse', X: 'unspecified', U: 'unknown' };

function readExamination(fields: readonly GdtField[]): GdtExamination {
  const exam: GdtExamination = { tests: readTests(fields), findings: readFindings(fields), attachments: readAttachments(fields) };
  for (const f of fields) {
    if (f.id === '8402' && exam.testCode === undefined) exam.testCode = f.value;
    else if (f.id === '6200' && exam.date === undefined) exam.date = f.value;
    else if (f.id === '6201' && exam.time === undefined) exam.time = f.value;
  }
  return exam;
}

/** TTMMJJJJ → YYYY-MM-DD, or undefined when it is not a calendar date (GDT allows 00 for unknown day/month). */
export function gdtDateToIso(value: string): string | undefined {
  const m = /^(\d{2})(\d{2})(\d{4})$/.exec(value.trim());
  if (m === null) return undefined;
  const dd = m[1] ?? '';
  const mm = m[2] ?? '';
  const yyyy = m[3] ?? '';
  const d = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd)));
  if (d.getUTCFullYear() !== Number(yyyy) || d.getUTCMonth() !== Number(mm) - 1 || d.getUTCDate() !== Number(dd)) return undefined;
  return `${yyyy}-${mm}-${dd}`;
}

function assign<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined): void {
  if (value !== undefined) target[key] = value;
}
