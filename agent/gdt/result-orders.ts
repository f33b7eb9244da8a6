import { fieldValue, viewRecord } from './codec/index.js';
import type { GdtParseResult } from './codec/index.js';
import { currentOrder, matchOrder, type OpenOrder } from './order-match.js';
import type { ImportWarning } from './result-event.js';

/**
 * Links between a device's files and the box's orders (pure): which order each result record
 * answers, whose master data a 6300 asks for, and whether a result was meant for this box.
 */
export function resultOrderIds(parse: GdtParseResult, indexes: readonly number[], open: readonly OpenOrder[]): Array<string | undefined> {
  const remaining = [...open];
  return indexes.map((index) => {
    const record = parse.records[index];
    if (record === undefined) return undefined;
    const view = viewRecord(record);
    const testCode = view.kind === 'results' || view.kind === 'show-results' ? view.examination.testCode : undefined;
    const match = matchOrder(remaining, { patientNumber: view.patient.number, testCode, requestId: fieldValue(record, '8310') });
    if (match === undefined) return undefined;
    // One order answers one record: two records of one file are two examinations.
    remaining.splice(remaining.indexOf(match), 1);
    return match.orderId;
  });
}

/** The open order a 6300 is about: the one for the patient number it names, else the device's newest. */
export function masterDataPatient<T extends OpenOrder>(parse: GdtParseResult, index: number, open: readonly T[]): T | undefined {
  const record = parse.records[index];
  const number = record === undefined ? undefined : fieldValue(record, '3000')?.trim();
  if (number !== undefined && number !== '') {
    const forPatient = currentOrder(open.filter((o) => o.patientNumber.trim() === number));
    if (forPatient !== undefined) return forPatient;
  }
  return currentOrder(open);
}

/**
 * 8315 names the receiver. Real devices write all sorts there (their own id, a practice-system
 * name), so a mismatch is a warning, never a reason to refuse findings.
 */
export function receiverWarnings(parse: GdtParseResult, indexes: readonly number[], ownGdtId: string): ImportWarning[] {
  const out: ImportWarning[] = [];
  for (const index of indexes) {
    const record = parse.records[index];
    const receiver = record === undefined ? undefined : fieldValue(record, '8315');
    if (receiver !== undefined && receiver.trim().toUpperCase() !== ownGdtId.trim().toUpperCase()) {
      const line = parse.frames[index]?.fieldLines[record?.fields.findIndex((f) => f.id === '8315') ?? -1];
      out.push({ code: 'receiver-id', ...(line !== undefined ? { line } : {}), field: '8315', message: `record ${index + 1}: 8315 names another receiver than this box's GDT id` });
    }
  }
  return out;
}
