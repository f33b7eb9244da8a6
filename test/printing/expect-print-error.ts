import { PrintError, type PrintFailure } from '../../agent/printing/print-error.js';

export interface ExpectedPrintError {
  reason: PrintFailure;
  retryable?: boolean;
  code?: string;
  ippStatus?: string;
  message?: RegExp;
  requestComplete?: boolean;
}

/** The three assertions used here, as tap declares them (its Test type is generic over plugins). */
interface Asserts {
  fail: (...args: [string]) => unknown;
  same: (...args: [unknown, unknown, string]) => unknown;
  match: (...args: [unknown, RegExp]) => unknown;
}

/** Awaits a rejection and checks it is a PrintError with exactly these properties; returns it. */
export async function expectPrintError(t: Asserts, work: Promise<unknown> | (() => unknown), want: ExpectedPrintError): Promise<PrintError | undefined> {
  let err: unknown;
  try {
    await (typeof work === 'function' ? work() : work);
    t.fail(`expected a PrintError(${want.reason}), but it succeeded`);
    return undefined;
  } catch (e) {
    err = e;
  }
  if (!(err instanceof PrintError)) {
    t.fail(`expected a PrintError(${want.reason}), got ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return undefined;
  }
  const found: Record<string, unknown> = { reason: err.reason };
  const wanted: Record<string, unknown> = { reason: want.reason };
  for (const key of ['retryable', 'code', 'ippStatus', 'requestComplete'] as const) {
    if (want[key] !== undefined) {
      found[key] = err[key];
      wanted[key] = want[key];
    }
  }
  t.same(found, wanted, `PrintError ${want.reason}`);
  if (want.message) t.match(err.message, want.message);
  return err;
}
