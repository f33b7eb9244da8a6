import { invalidInput } from '../core/errors.js';

/**
 * The `pdf` argument of the print command: base64 (RFC 4648 §4, padding required), a PDF, not
 * larger than the configured limit. Pure. Errors name the problem, never the content.
 * Node's base64 decoder skips characters it does not know, so a damaged string would silently
 * print garbage: it is checked first.
 */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** PDF readers accept the header within the first 1024 bytes (ISO 32000-1 Annex H.3 note). */
const HEADER_WINDOW = 1024;

export function decodePdfArgument(base64: string, maxBytes: number): Buffer {
  // Line breaks are common in base64 from mail-like encoders (MIME wraps at 76).
  const compact = /[\r\n]/.test(base64) ? base64.replace(/[\r\n]/g, '') : base64;
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) throw invalidInput('pdf is not valid base64');
  const decodedLength = (compact.length / 4) * 3 - (compact.endsWith('==') ? 2 : compact.endsWith('=') ? 1 : 0);
  if (decodedLength > maxBytes) throw invalidInput(`document of ${decodedLength} bytes exceeds the limit of ${maxBytes} bytes (printing.queue.maxDocumentBytes)`);
  const document = Buffer.from(compact, 'base64');
  if (!isPdf(document)) throw invalidInput('document is not a PDF (no %PDF- header)');
  return document;
}

export function isPdf(document: Uint8Array): boolean {
  return Buffer.from(document.buffer, document.byteOffset, Math.min(document.length, HEADER_WINDOW)).includes('%PDF-');
}
