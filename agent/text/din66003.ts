import { PraxisboxError, ErrorCode } from '../core/errors.js';

/**
 * DIN 66003 (the German reference version of ISO 646): 7-bit ASCII with seven code points
 * replaced by German characters. Used by GDT (9206=1) and by the KVK's text fields.
 */
const GERMAN_FOR_ASCII: Readonly<Record<number, string>> = {
  0x40: '§', // @
  0x5b: 'Ä', // [
  0x5c: 'Ö', // \
  0x5d: 'Ü', // ]
  0x7b: 'ä', // {
  0x7c: 'ö', // |
  0x7d: 'ü', // }
  0x7e: 'ß', // ~
};
const ASCII_FOR_GERMAN: ReadonlyMap<string, number> = new Map(
  Object.entries(GERMAN_FOR_ASCII).map(([code, ch]) => [ch, Number(code)]),
);

/** Decodes 7-bit DIN 66003 bytes. Bytes ≥ 0x80 are not part of the charset and are rejected. */
export function decodeDin66003(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (b >= 0x80) {
      throw new PraxisboxError(ErrorCode.InvalidInput, `byte 0x${b.toString(16)} at offset ${i} is not 7-bit DIN 66003`);
    }
    out += GERMAN_FOR_ASCII[b] ?? String.fromCharCode(b);
  }
  return out;
}

/** True when `ch` (one character) can be written in DIN 66003. */
export function isDin66003Encodable(ch: string): boolean {
  if (ASCII_FOR_GERMAN.has(ch)) return true;
  const code = ch.charCodeAt(0);
  return ch.length === 1 && code < 0x80 && GERMAN_FOR_ASCII[code] === undefined;
}

/**
 * Encodes text to DIN 66003. Characters the charset cannot carry (including the ASCII ones it
 * replaced, like `@` and `[`) are refused with their position — never replaced by `?`.
 */
export function encodeDin66003(text: string): Buffer {
  const out = Buffer.alloc(text.length);
  let i = 0;
  for (const ch of text) {
    const mapped = ASCII_FOR_GERMAN.get(ch);
    if (mapped !== undefined) out[i] = mapped;
    else if (isDin66003Encodable(ch)) out[i] = ch.charCodeAt(0);
    else throw new PraxisboxError(ErrorCode.InvalidInput, `character U+${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, '0').toUpperCase()} at position ${i} cannot be written in DIN 66003`);
    i++;
  }
  return out.subarray(0, i);
}
