import { createHash } from 'node:crypto';

/**
 * PC/SC reader names are "<model> [<serial>] NN SS": pcsc-lite appends the reader's index (NN, the
 * lowest free number when it was attached — it changes when readers are re-plugged in another
 * order) and the slot (SS, fixed per physical slot). Configuration matches on the name without the
 * index, so a terminal keeps its id, name and workstation across re-plugs and reboots.
 */
const SUFFIX = /^(.*\S)\s+([0-9A-F]{2})\s+([0-9A-F]{2})$/;

export interface ReaderNameParts {
  base: string;
  index?: string;
  slot?: string;
}

export function splitReaderName(name: string): ReaderNameParts {
  const m = SUFFIX.exec(name.trim());
  if (!m) return { base: name.trim() };
  return { base: m[1] ?? '', index: m[2] ?? '', slot: m[3] ?? '' };
}

/** The re-plug-stable key: model (and serial, when the driver includes it) plus slot. */
export function stableReaderKey(name: string): string {
  const p = splitReaderName(name);
  return p.slot === undefined ? p.base : `${p.base} slot ${p.slot}`;
}

/**
 * Whether a configured name designates this reader: equal full names, or equal stable keys (the
 * configured name may be written with or without the index suffix).
 */
export function readerMatches(configured: string, actual: string): boolean {
  const c = configured.trim();
  if (c === '') return false;
  if (c === actual.trim()) return true;
  const key = stableReaderKey(actual);
  if (c === key) return true;
  const cp = splitReaderName(c);
  const ap = splitReaderName(actual);
  if (cp.slot === undefined) return ap.slot === '00' && cp.base === ap.base;
  return cp.base === ap.base && cp.slot === ap.slot;
}

/**
 * A terminal id for a reader nobody configured yet: `pcsc-` and a slug of its stable key. Long names
 * are cut and get a short hash of the whole key, so two readers differing only in a serial number at
 * the end still get different ids.
 */
export function generatedTerminalId(readerName: string): string {
  const key = stableReaderKey(readerName);
  let slug = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (slug.length > 34) slug = `${slug.slice(0, 27).replace(/-+$/, '')}-${createHash('sha256').update(key).digest('hex').slice(0, 6)}`;
  return `pcsc-${slug || 'reader'}`;
}
