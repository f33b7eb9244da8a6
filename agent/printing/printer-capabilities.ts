import { collections, find, firstBoolean, firstInteger, firstRange, firstString, groupAttributes, integers, strings } from './ipp/attribute-read.js';
import { printerStateName, type PrinterStateName } from './ipp/constants.js';
import type { IppAttribute, IppMessage } from './ipp/ipp-value.js';
import { PrintError } from './print-error.js';

/**
 * What a printer can do and how it is doing, read from its Get-Printer-Attributes answer
 * (RFC 8011 §5.4, PWG 5100.7 for media-col). Pure: a decoded message in, a plain model out.
 */

export const PDF = 'application/pdf';

/** What the client asks for: enough for capabilities and state, far smaller than `all`. */
export const CAPABILITY_ATTRIBUTES = [
  'printer-name',
  'printer-make-and-model',
  'printer-uuid',
  'printer-state',
  'printer-state-reasons',
  'printer-state-message',
  'printer-is-accepting-jobs',
  'queued-job-count',
  'ipp-versions-supported',
  'operations-supported',
  'document-format-supported',
  'media-source-supported',
  'media-col-supported',
  'media-col-ready',
  'media-col-default',
  'media-size-supported',
  'sides-supported',
  'sides-default',
  'color-supported',
  'print-color-mode-supported',
  'print-color-mode-default',
  'copies-supported',
  'copies-default',
] as const;

export type Sides = 'one-sided' | 'two-sided-long-edge' | 'two-sided-short-edge';

/** Media dimensions in hundredths of a millimetre (PWG 5100.7 media-size x-/y-dimension). */
export interface MediaSize {
  x: number;
  y: number;
}

export interface MediaEntry {
  source?: string;
  size?: MediaSize;
  type?: string;
}

export type ProblemKind = 'paper-out' | 'paper-low' | 'jam' | 'offline' | 'door-open' | 'toner-empty' | 'toner-low' | 'paused' | 'output-full' | 'other';

export interface PrinterProblem {
  kind: ProblemKind;
  /** From the keyword suffix (RFC 8011 §5.4, printer-state-reasons); no suffix means error. */
  severity: 'error' | 'warning' | 'report';
  /** The printer-state-reasons keyword as sent, e.g. `media-empty-error`. */
  keyword: string;
}

export interface PrinterState {
  state: PrinterStateName | 'unknown';
  reasons: string[];
  problems: PrinterProblem[];
  acceptingJobs: boolean;
  queuedJobs: number | undefined;
  /** Free text from the printer's panel; shown on the status page, not logged. */
  message: string | undefined;
}

export interface PrinterCapabilities {
  name: string | undefined;
  makeAndModel: string | undefined;
  uuid: string | undefined;
  ippVersions: string[];
  operations: number[];
  documentFormats: string[];
  acceptsPdf: boolean;
  /** media-source keywords: the trays a job may name. */
  trays: string[];
  mediaColMembers: string[];
  mediaReady: MediaEntry[];
  mediaDefault: MediaEntry | undefined;
  mediaSizes: MediaSize[];
  sides: { supported: Sides[]; default: Sides | undefined; duplex: boolean };
  color: { supported: boolean; modes: string[]; default: string | undefined };
  copies: { max: number; default: number };
  status: PrinterState;
}

const SIDES: ReadonlySet<string> = new Set(['one-sided', 'two-sided-long-edge', 'two-sided-short-edge']);
const isSides = (s: string): s is Sides => SIDES.has(s);

export function parseCapabilities(response: IppMessage): PrinterCapabilities {
  const a = groupAttributes(response, 'printer');
  const documentFormats = strings(a, 'document-format-supported');
  const sidesSupported = strings(a, 'sides-supported').filter(isSides);
  const sidesDefault = firstString(a, 'sides-default');
  const copiesRange = firstRange(a, 'copies-supported');
  const colorModes = strings(a, 'print-color-mode-supported');
  const defaultCol = collections(a, 'media-col-default')[0];
  return {
    name: firstString(a, 'printer-name'),
    makeAndModel: firstString(a, 'printer-make-and-model'),
    uuid: firstString(a, 'printer-uuid'),
    ippVersions: strings(a, 'ipp-versions-supported'),
    operations: integers(a, 'operations-supported'),
    documentFormats,
    acceptsPdf: documentFormats.some((f) => f.toLowerCase() === PDF),
    trays: strings(a, 'media-source-supported'),
    mediaColMembers: strings(a, 'media-col-supported'),
    mediaReady: collections(a, 'media-col-ready').map(mediaEntry),
    mediaDefault: defaultCol ? mediaEntry(defaultCol) : undefined,
    mediaSizes: collections(a, 'media-size-supported').flatMap((m) => {
      const x = firstInteger(m, 'x-dimension');
      const y = firstInteger(m, 'y-dimension');
      // Roll media advertise ranges (rangeOfInteger) that firstInteger skips: only fixed sizes here.
      return x !== undefined && y !== undefined ? [{ x, y }] : [];
    }),
    sides: {
      supported: sidesSupported,
      default: sidesDefault !== undefined && isSides(sidesDefault) ? sidesDefault : undefined,
      duplex: sidesSupported.some((s) => s !== 'one-sided'),
    },
    color: {
      // color-supported is the RFC 8011 answer; print-color-mode (PWG 5100.13) is finer.
      supported: firstBoolean(a, 'color-supported') ?? colorModes.some((m) => m === 'color' || m === 'auto-monochrome'),
      modes: colorModes,
      default: firstString(a, 'print-color-mode-default'),
    },
    copies: { max: copiesRange?.upper ?? 1, default: firstInteger(a, 'copies-default') ?? 1 },
    status: parsePrinterState(a),
  };
}

function mediaEntry(members: IppAttribute[]): MediaEntry {
  const entry: MediaEntry = {};
  const source = firstString(members, 'media-source');
  const type = firstString(members, 'media-type');
  const size = collections(members, 'media-size')[0];
  if (source !== undefined) entry.source = source;
  if (type !== undefined) entry.type = type;
  if (size) {
    const x = firstInteger(size, 'x-dimension');
    const y = firstInteger(size, 'y-dimension');
    if (x !== undefined && y !== undefined) entry.size = { x, y };
  }
  return entry;
}

/** State, reasons and problems — also usable on a response that carries only those attributes. */
export function parsePrinterState(a: readonly IppAttribute[]): PrinterState {
  const stateValue = firstInteger(a, 'printer-state');
  const reasons = strings(a, 'printer-state-reasons').filter((r) => r !== 'none');
  return {
    state: (stateValue !== undefined ? printerStateName(stateValue) : undefined) ?? 'unknown',
    reasons,
    problems: reasons.map(problemOf),
    // Absent means the printer did not say; RFC 8011 makes it REQUIRED, so assume it accepts.
    acceptingJobs: find(a, 'printer-is-accepting-jobs') ? firstBoolean(a, 'printer-is-accepting-jobs') !== false : true,
    queuedJobs: firstInteger(a, 'queued-job-count'),
    message: firstString(a, 'printer-state-message'),
  };
}

const PROBLEM_KINDS: ReadonlyArray<[ProblemKind, readonly string[]]> = [
  ['paper-out', ['media-empty', 'media-needed', 'input-tray-missing']],
  ['paper-low', ['media-low']],
  ['jam', ['media-jam', 'input-tray-jam', 'output-tray-jam']],
  ['offline', ['offline', 'shutdown', 'connecting-to-device', 'timed-out']],
  ['door-open', ['door-open', 'cover-open', 'interlock-open']],
  ['toner-empty', ['toner-empty', 'marker-supply-empty', 'developer-empty']],
  ['toner-low', ['toner-low', 'marker-supply-low', 'developer-low']],
  ['paused', ['paused', 'moving-to-paused']],
  ['output-full', ['output-area-full', 'output-area-almost-full']],
];

export function problemOf(keyword: string): PrinterProblem {
  const m = /^(.*)-(error|warning|report)$/.exec(keyword);
  const base = m?.[1] ?? keyword;
  const severity = (m?.[2] as PrinterProblem['severity'] | undefined) ?? 'error';
  const kind = PROBLEM_KINDS.find(([, keys]) => keys.includes(base))?.[0] ?? 'other';
  return { kind, severity, keyword };
}

/** Ready for a job now: not stopped, accepting jobs, and no error-level problem (paper out, jam, offline). */
export function readiness(status: PrinterState): { ready: boolean; blockedBy: PrinterProblem[] } {
  const blockedBy = status.problems.filter((p) => p.severity === 'error' && p.kind !== 'other');
  return { ready: status.state !== 'stopped' && status.acceptingJobs && blockedBy.length === 0, blockedBy };
}

/** The clear error the issue asks for when a printer cannot take PDF at all. */
export function assertAcceptsPdf(capabilities: PrinterCapabilities): void {
  if (capabilities.acceptsPdf) return;
  const offered = capabilities.documentFormats.join(', ') || 'none';
  throw new PrintError('pdf-not-supported', `printer does not accept PDF (document-format-supported: ${offered})`, {
    details: { documentFormats: capabilities.documentFormats },
  });
}
