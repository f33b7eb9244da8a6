import { inspect } from 'node:util';

/**
 * A box around personal data (names, birth dates, insurance numbers, addresses, GDT patient
 * fields, card contents). Events that carry patient payloads wrap them in `PatientData`, so that
 * every accidental path to a log line — JSON.stringify, util.inspect, template strings, pino —
 * sees only a marker. The value is reachable only through `reveal()`, which code that legitimately
 * forwards the data (outbox, cloud, device files) calls explicitly.
 */
export class PatientData<T> {
  static readonly MARKER = '[patient data]';
  readonly #value: T;

  constructor(value: T) {
    this.#value = value;
  }

  reveal(): T {
    return this.#value;
  }

  toJSON(): string {
    return PatientData.MARKER;
  }

  toString(): string {
    return PatientData.MARKER;
  }

  [inspect.custom](): string {
    return PatientData.MARKER;
  }
}

export const patientData = <T>(value: T): PatientData<T> => new PatientData(value);

export function isPatientData(value: unknown): value is PatientData<unknown> {
  return value instanceof PatientData;
}

/**
 * Replaces every `PatientData` inside a plain structure by its revealed value — for the one place
 * that must write the real payload (the outbox, bound for the cloud).
 */
export function revealDeep(value: unknown): unknown {
  if (value instanceof PatientData) return revealDeep(value.reveal());
  if (Array.isArray(value)) return value.map(revealDeep);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = revealDeep(v);
    return out;
  }
  return value;
}
