/**
 * Typed errors. Every failure that crosses a module boundary carries a stable `code` so that
 * replies (MQTT, web, CLI) are mapped in one place and tests can assert on codes, not on text.
 * Messages must never contain patient data: callers describe *what* is wrong (field, file, limit),
 * never the value itself.
 */
export const ErrorCode = {
  InvalidInput: 'InvalidInput',
  InvalidConfig: 'InvalidConfig',
  NotFound: 'NotFound',
  DeviceUnavailable: 'DeviceUnavailable',
  CommandRejected: 'CommandRejected',
  UnknownCommand: 'UnknownCommand',
  OutboxFull: 'OutboxFull',
  Corrupt: 'Corrupt',
  Timeout: 'Timeout',
  Expired: 'Expired',
  Internal: 'Internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class PraxisboxError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = `PraxisboxError(${code})`;
    this.code = code;
    this.details = options?.details;
  }
}

export const invalidInput = (message: string, details?: Record<string, unknown>): PraxisboxError =>
  new PraxisboxError(ErrorCode.InvalidInput, message, details ? { details } : undefined);

export const notFound = (message: string): PraxisboxError => new PraxisboxError(ErrorCode.NotFound, message);

export function isPraxisboxError(err: unknown): err is PraxisboxError {
  return err instanceof PraxisboxError;
}

/** One problem with one field: `path` is a JSON Pointer into the checked document (config or command args). */
export interface FieldProblem {
  path: string;
  message: string;
}

/** The shape every error reply takes (MQTT `res`, web API, CLI --json). */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
  /** For InvalidInput/InvalidConfig: the fields at fault, so a form can show each error next to its field. */
  details?: FieldProblem[];
}

/**
 * The field problems an error carries (`details.problems`), or undefined. Only well-formed
 * `{path, message}` pairs pass: other details (record numbers, ids) stay inside the box.
 */
export function fieldProblems(err: PraxisboxError): FieldProblem[] | undefined {
  const list = err.details?.['problems'];
  if (!Array.isArray(list)) return undefined;
  const problems = list.filter(
    (p): p is FieldProblem => typeof p === 'object' && p !== null && typeof (p as FieldProblem).path === 'string' && typeof (p as FieldProblem).message === 'string',
  );
  return problems.length > 0 ? problems.map((p) => ({ path: p.path, message: p.message })) : undefined;
}

/**
 * Maps any thrown value to a reply. Unknown errors become `Internal` with a generic message so that
 * text from third-party libraries (which may echo input) never leaves the box.
 */
export function toErrorReply(err: unknown): ErrorReply {
  if (isPraxisboxError(err)) {
    const details = fieldProblems(err);
    return details ? { code: err.code, message: err.message, details } : { code: err.code, message: err.message };
  }
  return { code: ErrorCode.Internal, message: 'internal error (see the box log for details)' };
}

/**
 * A short description for log lines and status reasons. Only our own (reviewed) messages and system
 * error codes are included: third-party messages may quote their input, which can be patient data.
 */
export function describeError(err: unknown): string {
  if (isPraxisboxError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof Error) {
    const sys = err as NodeJS.ErrnoException;
    if (typeof sys.code === 'string' && typeof sys.syscall === 'string') return `${sys.code} (${sys.syscall})`;
    return err.name;
  }
  return 'non-error value thrown';
}
