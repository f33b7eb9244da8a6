/**
 * Which written order a result answers (pure). GDT 2.x results carry no order id, so the match is by
 * patient number (3000) and test (8402) against the device's open orders, newest first; a GDT 3
 * request id (8310) echoed by the device decides when present.
 */
export interface OpenOrder {
  orderId: string;
  testCode: string;
  patientNumber: string;
  writtenAt: number;
}

export interface ResultKeys {
  patientNumber?: string | undefined;
  testCode?: string | undefined;
  requestId?: string | undefined;
}

export function matchOrder(open: readonly OpenOrder[], result: ResultKeys): OpenOrder | undefined {
  const norm = (s: string | undefined): string => (s ?? '').trim().toUpperCase();
  if (norm(result.requestId) !== '') {
    const byId = open.find((o) => norm(o.orderId) === norm(result.requestId));
    if (byId !== undefined) return byId;
  }
  const patient = norm(result.patientNumber);
  if (patient === '') return undefined;
  const newestFirst = [...open].sort((a, b) => b.writtenAt - a.writtenAt);
  const samePatient = newestFirst.filter((o) => norm(o.patientNumber) === patient);
  const test = norm(result.testCode);
  if (test !== '') {
    const sameTest = samePatient.find((o) => norm(o.testCode) === test);
    if (sameTest !== undefined) return sameTest;
  }
  return samePatient[0];
}

/** The order whose patient a 6300 (master data request) is about: the device's newest open one. */
export function currentOrder<T extends OpenOrder>(open: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const o of open) if (best === undefined || o.writtenAt > best.writtenAt) best = o;
  return best;
}

/** Open orders kept per device; older ones are dropped (a device that never answers must not grow state). */
export const MAX_OPEN_ORDERS = 50;
