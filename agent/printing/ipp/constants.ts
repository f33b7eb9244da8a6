/**
 * Numbers of the IPP binary encoding (RFC 8010 §3.5) and model (RFC 8011 §5.4, §4.1), kept to what
 * the client speaks. Values come from the IANA IPP registry as also used by CUPS' ipp.h.
 */

/** Delimiter tags 0x00–0x0F (RFC 8010 §3.5.1): they start an attribute group or end the attributes. */
export const DelimiterTag = {
  operation: 0x01,
  job: 0x02,
  endOfAttributes: 0x03,
  printer: 0x04,
  unsupported: 0x05,
  subscription: 0x06,
  eventNotification: 0x07,
  resource: 0x08,
  document: 0x09,
  system: 0x0a,
} as const;
export type GroupName = Exclude<keyof typeof DelimiterTag, 'endOfAttributes'>;

const GROUP_BY_TAG = new Map<number, GroupName>(
  Object.entries(DelimiterTag)
    .filter(([name]) => name !== 'endOfAttributes')
    .map(([name, tag]) => [tag, name as GroupName]),
);

/** The group a delimiter tag opens, or undefined for a tag RFC 8010 reserves for the future. */
export function groupNameOf(tag: number): GroupName | undefined {
  return GROUP_BY_TAG.get(tag);
}

/**
 * Value tags (RFC 8010 §3.5.2). 0x10–0x1F are out-of-band: they carry no value, only a statement
 * about it (RFC 8010 §3.5.2; not-settable/delete-attribute/admin-define from RFC 3380).
 */
export const ValueTag = {
  unsupported: 0x10,
  default: 0x11,
  unknown: 0x12,
  noValue: 0x13,
  notSettable: 0x15,
  deleteAttribute: 0x16,
  adminDefine: 0x17,
  integer: 0x21,
  boolean: 0x22,
  enum: 0x23,
  octetString: 0x30,
  dateTime: 0x31,
  resolution: 0x32,
  rangeOfInteger: 0x33,
  begCollection: 0x34,
  textWithLanguage: 0x35,
  nameWithLanguage: 0x36,
  endCollection: 0x37,
  textWithoutLanguage: 0x41,
  nameWithoutLanguage: 0x42,
  keyword: 0x44,
  uri: 0x45,
  uriScheme: 0x46,
  charset: 0x47,
  naturalLanguage: 0x48,
  mimeMediaType: 0x49,
  memberAttrName: 0x4a,
  /** Reserved for extending the tag space beyond one octet (RFC 8010 §3.5.2); carried opaque here. */
  extension: 0x7f,
} as const;

export const OutOfBandNames = {
  0x10: 'unsupported',
  0x11: 'default',
  0x12: 'unknown',
  0x13: 'no-value',
  0x15: 'not-settable',
  0x16: 'delete-attribute',
  0x17: 'admin-define',
} as const;
export type OutOfBand = (typeof OutOfBandNames)[keyof typeof OutOfBandNames];

export const Operation = {
  PrintJob: 0x0002,
  ValidateJob: 0x0004,
  CancelJob: 0x0008,
  GetJobAttributes: 0x0009,
  GetJobs: 0x000a,
  GetPrinterAttributes: 0x000b,
} as const;
export type OperationName = keyof typeof Operation;

/** Job states (RFC 8011 §5.3, job-state). 7, 8 and 9 are terminal. */
export const JobState = {
  pending: 3,
  'pending-held': 4,
  processing: 5,
  'processing-stopped': 6,
  canceled: 7,
  aborted: 8,
  completed: 9,
} as const;
export type JobStateName = keyof typeof JobState;

const JOB_STATE_BY_VALUE = new Map<number, JobStateName>(Object.entries(JobState).map(([k, v]) => [v, k as JobStateName]));
export function jobStateName(value: number): JobStateName | undefined {
  return JOB_STATE_BY_VALUE.get(value);
}
export function isTerminalJobState(state: JobStateName): boolean {
  return state === 'canceled' || state === 'aborted' || state === 'completed';
}

/** Printer states (RFC 8011 §5.4, printer-state). */
export const PrinterState = { idle: 3, processing: 4, stopped: 5 } as const;
export type PrinterStateName = keyof typeof PrinterState;
const PRINTER_STATE_BY_VALUE = new Map<number, PrinterStateName>(Object.entries(PrinterState).map(([k, v]) => [v, k as PrinterStateName]));
export function printerStateName(value: number): PrinterStateName | undefined {
  return PRINTER_STATE_BY_VALUE.get(value);
}

/** Resolution units (RFC 8010 §3.9). */
export const ResolutionUnits = { dpi: 3, dpcm: 4 } as const;
