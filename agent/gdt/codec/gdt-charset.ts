import { isAscii, isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import type * as Iconv from 'iconv-lite';
import { decodeDin66003, encodeDin66003, isDin66003Encodable } from '../../text/din66003.js';
import { invalidInput } from '../../core/errors.js';
import type { GdtCharset, GdtWriteCharset } from './gdt-record.js';

/**
 * Charset detection, decoding and encoding for GDT. All three GDT charsets are single-byte, so a
 * decoded string has one UTF-16 unit per byte and string offsets are byte offsets — the parser
 * relies on that for `LLL` and 8100 checks. Only mislabelled UTF-8 breaks it (handled apart).
 */

export interface DecodedFile {
  charset: GdtCharset;
  /**
   * The file as one character per byte: decoded for the single-byte charsets, still Latin-1 for
   * UTF-8 (whose fields are decoded after the line split, so that offsets stay byte counts).
   */
  text: string;
  /** Why the bytes were not read as declared (→ a `charset-mismatch` warning), if they were not. */
  mismatch?: string;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

export function hasUtf8Bom(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
}

/**
 * Decodes a file that has 8-bit bytes (ASCII-only files read the same in every charset but DIN
 * 66003). The 9206 label decides — missing means CP437, as GDT says — unless the bytes contradict it:
 * bytes that are UTF-8 are read as UTF-8 whatever the label says (measured: CrescNet's example2 is
 * UTF-8 under 9206=3), and 8-bit bytes cannot be 7-bit DIN 66003 (read as CP437 then).
 */
export function decodeEightBit(bytes: Uint8Array, declared: GdtWriteCharset | undefined, latin1: string, bom: boolean): DecodedFile {
  const said = declared === undefined ? 'no 9206 (CP437)' : `9206 declares ${declared}`;
  if (bom || looksLikeUtf8(bytes)) {
    return { charset: 'utf-8', text: latin1, mismatch: bom ? 'the file starts with a UTF-8 byte order mark' : `${said}, but the bytes are UTF-8` };
  }
  if (declared === 'iso-8859-1') return { charset: declared, text: decodeSingleByte(latin1, declared) };
  const text = decodeSingleByte(latin1, 'cp437');
  if (declared === '7bit') return { charset: 'cp437', text, mismatch: `${said}, but the file has 8-bit bytes; read as cp437` };
  return { charset: 'cp437', text };
}

/**
 * Valid UTF-8 is not proof: CP437 "ßäö" (E1 84 94) is valid UTF-8 too. Mislabelled UTF-8 from a
 * German practice holds Latin-1 letters (äöüß: C3 xx) or typographic marks (€ „ “ –), and nothing
 * outside Latin and general punctuation; a chance byte pattern decodes to exotic code points.
 */
function looksLikeUtf8(bytes: Uint8Array): boolean {
  if (!isUtf8(bytes)) return false;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8');
  let typical = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    const punctuation = c >= 0x2000 && c <= 0x20cf;
    if (c > 0x24f && !punctuation) return false;
    if ((c >= 0xa0 && c <= 0xff) || punctuation) typical = true;
  }
  return typical;
}
const HIGH_GLOBAL = /[\x80-\xff]/g;

export { isAscii };

/**
 * Decodes a file in a single-byte charset from its Latin-1 reading (one character per byte); the
 * result has the same length, so offsets stay byte counts. A table lookup per 8-bit character, not
 * iconv-lite per file: its per-call Buffer handling cost 11 % of the parse of small files (measured).
 */
export function decodeSingleByte(latin1: string, charset: 'cp437' | 'iso-8859-1'): string {
  if (charset === 'cp437') return latin1.replace(HIGH_GLOBAL, cp437Char);
  // 9206=3 says ISO-8859-1, but Windows writers mean Windows-1252: its 0x80–0x9F are printable
  // (€, „, “) while ISO-8859-1's are unused control codes, so reading 1252 loses nothing.
  return latin1.replace(C1_GLOBAL, windows1252Char);
}

/** DIN 66003 for text that was read as ASCII (the parser fixes up 7-bit files field by field). */
export function decodeDinText(ascii: string): string {
  return DIN_REPLACED.test(ascii) ? ascii.replace(DIN_REPLACED_GLOBAL, dinChar) : ascii;
}

/** UTF-8 for a field that was read as Latin-1 (mislabelled UTF-8 is parsed on its bytes, then fixed up). */
export function decodeUtf8Text(latin1: string): string {
  return HIGH.test(latin1) ? Buffer.from(latin1, 'latin1').toString('utf8') : latin1;
}

const HIGH = /[\x80-\xff]/;

// The eight ASCII code points DIN 66003 redefines (§ÄÖÜäöüß); the rest of 7-bit is plain ASCII.
const DIN_REPLACED = /[@[\\\]{|}~]/;
const DIN_REPLACED_GLOBAL = /[@[\\\]{|}~]/g;
let dinTable: ReadonlyMap<string, string> | undefined;
function dinChar(ch: string): string {
  dinTable ??= new Map(Array.from('@[\\]{|}~', (c) => [c, decodeDin66003(Buffer.from(c, 'latin1'))]));
  return dinTable.get(ch) ?? ch;
}

const C1_GLOBAL = /[\x80-\x9f]/g;

// iconv-lite is asked once per process for the 256 characters of each charset, on the first file
// with 8-bit bytes or the first write: not loaded with the agent (docs/agent.md, "Memory budget").
const requireDependency = createRequire(import.meta.url);
const iconv = (): typeof Iconv => requireDependency('iconv-lite') as typeof Iconv;

let windows1252: readonly string[] | undefined;
let cp437: readonly string[] | undefined;

/**
 * Windows-1252 as iconv-lite defines it, except that its five unassigned bytes (0x81, 0x8D, 0x8F,
 * 0x90, 0x9D) stay the C1 code points they are in ISO-8859-1 (as WHATWG's windows-1252 does), so that
 * every byte decodes to a distinct character and writes back to the same byte.
 */
function windows1252Table(): readonly string[] {
  if (windows1252 === undefined) {
    const decoded = iconv().decode(allBytes(), 'windows1252');
    windows1252 = Array.from(decoded, (ch, i) => (ch === '\uFFFD' ? String.fromCharCode(i) : ch));
  }
  return windows1252;
}

function cp437Table(): readonly string[] {
  cp437 ??= Array.from(iconv().decode(allBytes(), 'cp437'));
  return cp437;
}

function windows1252Char(ch: string): string {
  return windows1252Table()[ch.charCodeAt(0)] ?? ch;
}

function cp437Char(ch: string): string {
  return cp437Table()[ch.charCodeAt(0)] ?? ch;
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

const NON_ASCII = /[\u0080-\uffff]/;

/** Index of the first character `charset` cannot carry, or -1. */
export function findUnencodable(text: string, charset: GdtWriteCharset): number {
  if (charset === '7bit') {
    for (let i = 0; i < text.length; i++) if (!isDin66003Encodable(text.charAt(i))) return i;
    return -1;
  }
  if (!NON_ASCII.test(text)) return -1;
  const table = reverseTable(charset);
  for (let i = 0; i < text.length; i++) if (!table.has(text.charAt(i))) return i;
  return -1;
}

/** Encodes text that `findUnencodable` accepted; refuses anything else (never writes `?`). */
export function encodeText(text: string, charset: GdtWriteCharset): Buffer {
  if (charset === '7bit') return encodeDin66003(text);
  if (!NON_ASCII.test(text)) return Buffer.from(text, 'latin1');
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
