import { gunzipSync } from 'node:zlib';
import { invalidCardData } from './card-errors.js';
import { readTlvs } from './ber-tlv.js';
import type { CardGeneration } from './insured-person.js';

/**
 * The binary wrappers around the VSD on an eGK: length-prefixed EF.PD, offset-headed EF.VD, the
 * status file, the version file, and the gzip inside. Pure functions over bytes read from the card.
 */

/** VSD documents are a few KiB; anything that inflates past this is refused (zip bombs). */
export const MAX_INFLATED_BYTES = 64 * 1024;

/** EF.PD starts with the big-endian length of the gzip data that follows. */
export function pdLength(header: Uint8Array): number {
  if (header.length < 2) throw invalidCardData('EF.PD: length header missing');
  const length = ((header[0] as number) << 8) | (header[1] as number);
  if (length === 0) throw invalidCardData('EF.PD: empty');
  return length;
}

export interface VdOffsets {
  /** First byte of the VD gzip data. */
  start: number;
  /** Last byte (inclusive). */
  end: number;
}

/** EF.VD starts with four big-endian offsets: start/end of VD, start/end of GVD (ends inclusive). */
export function vdOffsets(header: Uint8Array): VdOffsets {
  if (header.length < 8) throw invalidCardData('EF.VD: offset header missing');
  const u16 = (i: number): number => ((header[i] as number) << 8) | (header[i + 1] as number);
  const start = u16(0);
  const end = u16(2);
  if (start < 8 || start === 0xffff || end < start || end === 0xffff) throw invalidCardData('EF.VD: offset header is inconsistent');
  return { start, end };
}

export interface StatusVd {
  /** '1': an update transaction was started and not completed (gemSpec_eGK_Fach_VSDM). */
  updatePending: boolean;
  writtenAt?: string;
  version?: string;
  /** The status byte was neither '0' nor '1'. */
  unknownStatus: boolean;
}

/** EF.StatusVD: status (1 ASCII), timestamp YYYYMMDDhhmmss (14 ASCII), version (5 bytes BCD), reserved. */
export function parseStatusVd(data: Uint8Array): StatusVd {
  if (data.length < 15) throw invalidCardData('EF.StatusVD: shorter than 15 bytes');
  const status = data[0];
  const result: StatusVd = { updatePending: status === 0x31, unknownStatus: status !== 0x30 && status !== 0x31 };
  const ts = String.fromCharCode(...data.subarray(1, 15));
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (m) result.writtenAt = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  if (data.length >= 20) {
    const version = bcdVersion(data.subarray(15, 20));
    if (version !== undefined) result.version = version;
  }
  return result;
}

/** Five BCD bytes `xxx yyy zzzz` (10 nibbles, 3-3-4) → `x.y.z`. */
function bcdVersion(bytes: Uint8Array): string | undefined {
  const nibbles: number[] = [];
  for (const b of bytes) nibbles.push(b >> 4, b & 0x0f);
  if (nibbles.some((n) => n > 9)) return undefined;
  const num = (a: number, b: number): number => Number(nibbles.slice(a, b).join(''));
  return `${num(0, 3)}.${num(3, 6)}.${num(6, 10)}`;
}

export interface Version2 {
  generation: CardGeneration;
  objectSystemVersion?: string;
}

/**
 * MF / EF.Version2 (G2 and later): a template 'EF' whose 'C1' holds the object system version as
 * three bytes. Object system 4.3 and later is generation 2.1 (gemProdT_MobKT §4.2; confirmed on
 * real cards by EgkCheck). G1 cards have no EF.Version2 at all.
 */
export function parseVersion2(data: Uint8Array): Version2 {
  try {
    const outer = readTlvs(data).find((t) => t.tag === 0xef);
    const inner = outer ? readTlvs(outer.value) : readTlvs(data);
    const c1 = inner.find((t) => t.tag === 0xc1);
    if (!c1 || c1.value.length !== 3) return { generation: 'unknown' };
    const [major, minor, patch] = [c1.value[0] as number, c1.value[1] as number, c1.value[2] as number];
    const objectSystemVersion = `${major}.${minor}.${patch}`;
    const generation: CardGeneration = major === 4 ? (minor >= 3 ? 'G2.1' : 'G2') : major > 4 ? 'G2.1' : 'unknown';
    return { generation, objectSystemVersion };
  } catch {
    return { generation: 'unknown' };
  }
}

/** Inflates one gzip member with a hard output cap; `what` names the file for the error. */
export function inflateVsd(data: Uint8Array, what: string, maxBytes = MAX_INFLATED_BYTES): Uint8Array {
  if (data.length < 18 || data[0] !== 0x1f || data[1] !== 0x8b) throw invalidCardData(`${what}: not gzip data`);
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (err) {
    if (err instanceof RangeError) throw invalidCardData(`${what}: inflates beyond ${maxBytes} bytes`, err);
    throw invalidCardData(`${what}: gzip data is corrupt`, err);
  }
}
