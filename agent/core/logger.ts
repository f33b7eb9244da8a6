import { pino, type Logger, type DestinationStream } from 'pino';
import { PatientData } from './patient-data.js';
import { isPraxisboxError } from './errors.js';

export type { Logger } from 'pino';

/**
 * Keys that name personal data. A log object that carries one of them (at any depth) has the value
 * replaced, whatever its type: the second line of defence behind `PatientData`, for payloads that
 * were not wrapped (a device file parsed into a plain object, say).
 */
const PERSONAL_KEYS = new Set(
  [
    'patient', 'person', 'insured', 'insuredPerson', 'patientName', 'surname', 'lastName', 'familyName',
    'firstName', 'givenName', 'birthDate', 'dateOfBirth', 'geburtsdatum', 'vorname', 'nachname',
    'insuranceNumber', 'insurantId', 'versichertenId', 'kvnr', 'address', 'street', 'streetName',
    'houseNumber', 'postcode', 'postalCode', 'zip', 'city', 'town', 'phone', 'email', 'sex',
    'gender', 'nameSuffix', 'namePrefix', 'coverage', 'findings', 'findingsText', 'comment',
    'pdf', 'fields', 'records', 'rawText', 'cardData',
  ].map((k) => k.toLowerCase()),
);

export const REDACTED = '[redacted]';
const MAX_DEPTH = 6;

function scrub(value: unknown, depth: number): unknown {
  if (value instanceof PatientData) return PatientData.MARKER;
  if (value instanceof Error) return serializeError(value);
  if (depth > MAX_DEPTH) return '[depth]';
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} bytes]`;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = PERSONAL_KEYS.has(k.toLowerCase()) ? REDACTED : scrub(v, depth + 1);
    }
    return out;
  }
  return value;
}

/**
 * Errors from our own code carry reviewed messages; errors from libraries may quote their input
 * (V8's JSON.parse quotes the text it choked on, XML parsers quote the offending line), so their
 * message is withheld and only class, system error code and stack frames are kept.
 */
export function serializeError(err: Error): Record<string, unknown> {
  const frames = (err.stack ?? '').split('\n').map((l) => l.trim()).filter((l) => l.startsWith('at ')).slice(0, 12);
  if (isPraxisboxError(err)) {
    const cause = err.cause instanceof Error ? serializeError(err.cause) : undefined;
    return { type: err.name, code: err.code, message: err.message, stack: frames, ...(cause ? { cause } : {}) };
  }
  const sys = err as NodeJS.ErrnoException;
  if (typeof sys.code === 'string' && typeof sys.syscall === 'string') {
    return { type: err.name, code: sys.code, syscall: sys.syscall, message: err.message, stack: frames };
  }
  return { type: err.name, message: '[withheld: third-party error text may quote input]', stack: frames };
}

export interface LoggerOptions {
  level?: string;
  /** Where JSON lines go; stdout (journald on the box) when omitted. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
}

/** JSON lines to stdout, which systemd hands to journald on the box. */
export function stdoutDestination(): DestinationStream {
  return pino.destination({ fd: 1, sync: false });
}

/** The one root logger of a process; modules get `log.child({ module })`. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => scrub(obj, 0) as Record<string, unknown>,
        bindings: (b) => scrub(b, 0) as Record<string, unknown>,
      },
      serializers: { err: (e: unknown) => (e instanceof Error ? serializeError(e) : scrub(e, 0)) },
    },
    options.destination ?? stdoutDestination(),
  );
}
