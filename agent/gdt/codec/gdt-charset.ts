import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { decodeDin66003, encodeDin66003, isDin66003Encodable } from '../../text/din66003.js';
import { invalidInput } from '../../core/errors.js';
import type { GdtCharset, GdtWriteCharset } from './gdt-record.js';

/**
 * Charset detection, decoding and encoding for GDT. All three GDT charsets are single-byte, so a
 * decoded string has one UTF-16 unit per byte and string offsets are byte offsets — the parser
 * relies on that for `LLL` and 8100 checks. Only mislabelled UTF-8 breaks it (handled apart).
 */

export interface CharsetChoice {
  charset: GdtCharset;
  /** Why the bytes were not read as declared (→ a `charset-mismatch` warning), if they were not. */
  mismatch?: string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

export function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
}

/**
 * Picks the charset to decode with. The 9206 label wins unless the bytes contradict it: non-ASCII
 * bytes that form valid UTF-8 are UTF-8 whatever the label says (measured: CrescNet's example2 is
 * UTF-8 under 9206=3; in CP437 or Latin-1 German text such byte pairs practically never occur), and
 * 8-bit bytes cannot be 7-bit DIN 66003. Without a usable label GDT says CP437, but files written in
 * Latin-1 without 9206 exist; German letters decide between the two (two-pass detection as in GNUmed).
 */
export function chooseCharset(bytes: Uint8Array, declared: GdtWriteCharset | undefined, ascii: boolean): CharsetChoice {
  if (ascii) return { charset: declared ?? 'cp437' };
  const said = declared === undefined ? 'no 9206 (CP437)' : `9206 declares ${declared}`;
  if (isUtf8(bytes)) return { charset: 'utf-8', mismatch: `${said}, but the bytes are UTF-8` };
  if (declared === '7bit') {
    const guess = guessEightBit(bytes);
    return { charset: guess, mismatch: `${said}, but the file has 8-bit bytes; read as ${guess}` };
  }
  if (declared !== undefined) return { charset: declared };
  const guess = guessEightBit(bytes);
  return guess === 'cp437' ? { charset: guess } : { charset: guess, mismatch: `${said}, but the bytes are German letters in ${guess}` };
}

// German letters (äöüÄÖÜß and é) in each charset.
const CP437_LETTERS = new Set([0x84, 0x94, 0x81, 0x8e, 0x99, 0x9a, 0xe1, 0x82]);
const LATIN1_LETTERS = new Set([0xe4, 0xf6, 0xfc, 0xc4, 0xd6, 0xdc, 0xdf, 0xe9]);

function guessEightBit(bytes: Uint8Array): GdtWriteCharset {
  let cp437 = 0;
  let latin1 = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b < 0x80) continue;
    if (CP437_LETTERS.has(b)) cp437++;
    else if (LATIN1_LETTERS.has(b)) latin1++;
  }
  return latin1 > cp437 ? 'iso-8859-1' : 'cp437';
}

export { isAscii };

/**
 * Decodes a whole file. `latin1` is the same bytes already decoded as Latin-1 (the parser needs it to
 * find 9206 first); for ASCII-only files it is already the answer in every charset but DIN 66003.
 */
export function decodeBytes(bytes: Uint8Array, charset: GdtCharset, latin1: string, ascii: boolean): string {
  if (charset === '7bit') return decodeDin66003(bytes);
  if (ascii) return latin1;
  if (charset === 'utf-8') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  if (charset === 'cp437') return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 'cp437');
  // 9206=3 says ISO-8859-1, but Windows writers mean Windows-1252: its 0x80–0x9F are printable
  // (€, „, “) while ISO-8859-1's are unused control codes, so reading 1252 loses nothing.
  return C1_RANGE.test(latin1) ? latin1.replace(C1_RANGE_GLOBAL, (ch) => windows1252Char(ch.charCodeAt(0))) : latin1;
}

const C1_RANGE = /[\x80-\x9f]/;
const C1_RANGE_GLOBAL = /[\x80-\x9f]/g;

let windows1252: readonly string[] | undefined;
let cp437: readonly string[] | undefined;

/**
 * Windows-1252 as iconv-lite defines it, except that its five unassigned bytes (0x81, 0x8D, 0x8F,
 * 0x90, 0x9D) stay the C1 code points they are in ISO-8859-1 (as WHATWG's windows-1252 does), so that
 * every byte decodes to a distinct character and writes back to the same byte.
 */
function windows1252Table(): readonly string[] {
  if (windows1252 === undefined) {
    const decoded = iconv.decode(allBytes(), 'windows1252');
    windows1252 = Array.from(decoded, (ch, i) => (ch === '\uFFFD' ? String.fromCharCode(i) : ch));
  }
  return windows1252;
}

function cp437Table(): readonly string[] {
  cp437 ??= Array.from(iconv.decode(allBytes(), 'cp437'));
  return cp437;
}

function windows1252Char(byte: number): string {
  return windows1252Table()[byte] ?? String.fromCharCode(byte);
}

function allBytes(): Buffer {
  const b = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) b[i] = i;
  return b;
}

const reverse = new Map<GdtWriteCharset, ReadonlyMap<string, number>>();

function reverseTable(charset: 'cp437' | 'iso-8859-1'): ReadonlyMap<string, number> {
  let table = reverse.get(charset);
  if (table === undefined) {
    const chars = charset === 'cp437' ? cp437Table() : windows1252Table();
    table = new Map(chars.map((ch, i) => [ch, i]));
    reverse.set(charset, table);
  }
  return table;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** Index of the first character `charset` cannot carry, or -1. */
export function findUnencodable(text: string, charset: GdtWriteCharset): number {
  if (charset === '7bit') {
    for (let i = 0; i < text.length; i++) if (!isDin66003Encodable(text.charAt(i))) return i;
    return -1;
  }
  if (ASCII_ONLY.test(text)) return -1;
  const table = reverseTable(charset);
  for (let i = 0; i < text.length; i++) if (!table.has(text.charAt(i))) return i;
  return -1;
}

/** Encodes text that `findUnencodable` accepted; refuses anything else (never writes `?`). */
export function encodeText(text: string, charset: GdtWriteCharset): Buffer {
  if (charset === '7bit') return encodeDin66003(text);
  if (ASCII_ONLY.test(text)) return Buffer.from(text, 'latin1');
  const table = reverseTable(charset);
  const out = Buffer.alloc(text.length);
  for (let i = 0; i < text.length; i++) {
    const byte = table.get(text.charAt(i));
    if (byte === undefined) throw invalidInput(`character ${codePointName(text, i)} at position ${i} cannot be written in ${charset}`);
    out[i] = byte;
  }
  return out;
}

/** `U+00E4` style name of the character at `index` (whole code point, also for surrogate pairs). */
export function codePointName(text: string, index: number): string {
  return `U+${(text.codePointAt(index) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}
