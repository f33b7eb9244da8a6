import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { StatusCode, statusKeyword } from './ipp/status-codes.js';

/**
 * Why a printer request failed, in the terms the print queue decides on: retry later (busy,
 * unreachable, timeout) or give up and tell a human (credentials, certificate, no PDF support).
 * Messages name the printer-side condition only — never the job name or document content.
 */
export type PrintFailure =
  | 'busy'
  | 'unavailable'
  | 'unreachable'
  | 'timeout'
  | 'aborted'
  | 'auth-failed'
  | 'tls-untrusted'
  | 'tls-failed'
  | 'tls-required'
  | 'pdf-not-supported'
  | 'option-not-supported'
  | 'job-not-found'
  | 'rejected'
  | 'protocol'
  | 'document-unreadable';

const RETRYABLE: ReadonlySet<PrintFailure> = new Set(['busy', 'unavailable', 'unreachable', 'timeout', 'aborted']);

const CODE: Record<PrintFailure, ErrorCode> = {
  busy: ErrorCode.DeviceUnavailable,
  unavailable: ErrorCode.DeviceUnavailable,
  unreachable: ErrorCode.DeviceUnavailable,
  timeout: ErrorCode.Timeout,
  aborted: ErrorCode.CommandRejected,
  'auth-failed': ErrorCode.InvalidConfig,
  'tls-untrusted': ErrorCode.InvalidConfig,
  'tls-failed': ErrorCode.InvalidConfig,
  'tls-required': ErrorCode.InvalidConfig,
  'pdf-not-supported': ErrorCode.InvalidConfig,
  'option-not-supported': ErrorCode.InvalidConfig,
  'job-not-found': ErrorCode.NotFound,
  rejected: ErrorCode.CommandRejected,
  protocol: ErrorCode.Corrupt,
  'document-unreadable': ErrorCode.InvalidInput,
};

export interface PrintErrorOptions {
  cause?: unknown;
  /** The IPP status keyword the printer answered with, when it answered. */
  ippStatus?: string;
  /**
   * True once the whole request (with the document) was handed to the socket: a timeout after that
   * may mean the printer accepted the job, so a blind retry can print twice.
   */
  requestComplete?: boolean;
  details?: Record<string, unknown>;
}

export class PrintError extends PraxisboxError {
  readonly reason: PrintFailure;
  readonly retryable: boolean;
  readonly ippStatus: string | undefined;
  readonly requestComplete: boolean;

  constructor(reason: PrintFailure, message: string, options: PrintErrorOptions = {}) {
    const details = { reason, retryable: RETRYABLE.has(reason), ...(options.ippStatus ? { ippStatus: options.ippStatus } : {}), ...options.details };
    super(CODE[reason], message, { cause: options.cause, details });
    this.reason = reason;
    this.retryable = RETRYABLE.has(reason);
    this.ippStatus = options.ippStatus;
    this.requestComplete = options.requestComplete ?? false;
  }
}

export function isPrintError(err: unknown): err is PrintError {
  return err instanceof PrintError;
}

/** The queue's one question: may this job be tried again later without a human? */
export function isRetryable(err: unknown): boolean {
  return err instanceof PrintError && err.retryable;
}

export interface StatusContext {
  jobOperation: boolean;
  requestComplete: boolean;
  /** Names from the response's unsupported-attributes group (RFC 8011 §4.1). */
  unsupported?: readonly string[];
}

/** Maps a non-successful IPP status to a failure reason (RFC 8011 §B status code meanings). */
export function failureForStatus(code: number, context: Omit<StatusContext, 'requestComplete'>): PrintFailure {
  // Measured: ippeveprinter (CUPS 2.4) answers a format it lacks with attributes-or-values-not-
  // supported and lists document-format as unsupported, not with document-format-not-supported.
  if (code === StatusCode['client-error-attributes-or-values-not-supported'] && context.unsupported?.includes('document-format')) return 'pdf-not-supported';
  switch (code) {
    case StatusCode['server-error-busy']:
      return 'busy';
    case StatusCode['server-error-internal-error']:
    case StatusCode['server-error-service-unavailable']:
    case StatusCode['server-error-device-error']:
    case StatusCode['server-error-temporary-error']:
    case StatusCode['server-error-not-accepting-jobs']:
      return 'unavailable';
    case StatusCode['client-error-forbidden']:
    case StatusCode['client-error-not-authenticated']:
    case StatusCode['client-error-not-authorized']:
      return 'auth-failed';
    case StatusCode['client-error-document-format-not-supported']:
      return 'pdf-not-supported';
    case StatusCode['client-error-attributes-or-values-not-supported']:
    case StatusCode['client-error-conflicting-attributes']:
      return 'option-not-supported';
    case StatusCode['client-error-not-found']:
    case StatusCode['client-error-gone']:
      return context.jobOperation ? 'job-not-found' : 'rejected';
    case StatusCode['client-error-timeout']:
      return 'timeout';
    default:
      return 'rejected';
  }
}

export function errorForStatus(code: number, operation: string, context: StatusContext): PrintError {
  const keyword = statusKeyword(code);
  const reason = failureForStatus(code, context);
  const unsupported = context.unsupported ?? [];
  const what =
    reason === 'pdf-not-supported'
      ? `printer does not accept PDF (${operation} answered ${keyword})`
      : reason === 'busy'
        ? `printer is busy with another job (${operation} answered ${keyword}); try again later`
        : `printer answered ${operation} with ${keyword}${unsupported.length > 0 ? ` (unsupported: ${unsupported.join(', ')})` : ''}`;
  return new PrintError(reason, what, { ippStatus: keyword, requestComplete: context.requestComplete, ...(unsupported.length > 0 ? { details: { unsupported } } : {}) });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED', 'ENETDOWN']);
const TLS_TRUST = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME|HOSTNAME/;

/** Maps a socket / TLS error from Node to a failure; only system error codes go into the message. */
export function errorForSystem(err: unknown, requestComplete: boolean): PrintError {
  if (err instanceof PrintError) return err;
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : undefined;
  if (code === 'ETIMEDOUT') return new PrintError('timeout', 'printer did not answer in time (ETIMEDOUT)', { cause: err, requestComplete });
  if (code && UNREACHABLE.has(code)) return new PrintError('unreachable', `printer is not reachable (${code})`, { cause: err, requestComplete });
  if (code && TLS_TRUST.test(code)) return new PrintError('tls-untrusted', `printer certificate is not trusted (${code})`, { cause: err, requestComplete });
  if (code?.startsWith('HPE_')) return new PrintError('protocol', `printer sent malformed HTTP (${code})`, { cause: err, requestComplete });
  if (code && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'))) {
    return new PrintError('tls-failed', `TLS connection to the printer failed (${code})`, { cause: err, requestComplete });
  }
  return new PrintError('unreachable', `printer connection failed (${code ?? 'no error code'})`, { cause: err, requestComplete });
}
