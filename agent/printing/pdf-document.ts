/**
 * A minimal PDF 1.4 writer for plain text pages (test page, diagnostics). One standard font
 * (Helvetica, WinAnsiEncoding — covers German umlauts and ß), no compression, a correct xref
 * table so strict printers' PDF interpreters accept it without "repairing". Pure.
 */

export interface PdfTextPage {
  lines: string[];
}

export interface PdfOptions {
  /** Points; A4 by default (595.28 × 841.89 pt). */
  width?: number;
  height?: number;
  fontSize?: number;
}

const A4 = { width: 595.28, height: 841.89 };

/** WinAnsiEncoding's 0x80–0x9F block (ISO 32000-1 Annex D) as far as German text needs it. */
const WIN_ANSI_EXTRA = new Map<number, number>([
  [0x20ac, 0x80], [0x201a, 0x82], [0x201e, 0x84], [0x2026, 0x85], [0x2018, 0x91], [0x2019, 0x92],
  [0x201c, 0x93], [0x201d, 0x94], [0x2022, 0x95], [0x2013, 0x96], [0x2014, 0x97],
]);

/** WinAnsiEncoding byte for a character; anything outside it becomes `?`. */
function winAnsi(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0x3f;
    // Latin-1 printable ranges map 1:1 in WinAnsiEncoding.
    if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) out.push(cp);
    else out.push(WIN_ANSI_EXTRA.get(cp) ?? 0x3f);
  }
  return Buffer.from(out);
}

/** A PDF literal string: backslash, parentheses escaped (ISO 32000-1 §7.3.4.2). */
function literal(text: string): Buffer {
  const raw = winAnsi(text);
  const out: number[] = [0x28];
  for (const b of raw) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) out.push(0x5c);
    out.push(b);
  }
  out.push(0x29);
  return Buffer.from(out);
}

function contentStream(page: PdfTextPage, height: number, fontSize: number): Buffer {
  const leading = Math.round(fontSize * 1.4);
  const parts: Buffer[] = [Buffer.from(`BT /F1 ${fontSize} Tf ${leading} TL 56 ${Math.round(height - 72)} Td\n`)];
  page.lines.forEach((line, i) => {
    parts.push(literal(line), Buffer.from(i === 0 ? ' Tj\n' : " '\n"));
  });
  parts.push(Buffer.from('ET\n'));
  return Buffer.concat(parts);
}

export function buildPdf(pages: readonly PdfTextPage[], options: PdfOptions = {}): Buffer {
  if (pages.length === 0) throw new Error('a PDF needs at least one page');
  const width = options.width ?? A4.width;
  const height = options.height ?? A4.height;
  const fontSize = options.fontSize ?? 12;
  const objects: Buffer[] = [];
  const pageIds = pages.map((_, i) => 4 + i * 2);
  objects.push(Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'));
  objects.push(Buffer.from(`<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pages.length} >>`));
  objects.push(Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'));
  for (const [i, page] of pages.entries()) {
    const contentId = 5 + i * 2;
    objects.push(Buffer.from(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${width} ${height}] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`));
    const stream = contentStream(page, height, fontSize);
    objects.push(Buffer.concat([Buffer.from(`<< /Length ${stream.length} >>\nstream\n`), stream, Buffer.from('endstream')]));
  }
  const chunks: Buffer[] = [Buffer.from('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let offset = chunks[0]?.length ?? 0;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(offset);
    const obj = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    chunks.push(obj);
    offset += obj.length;
  });
  // Each xref entry is exactly 20 bytes: 10-digit offset, 5-digit generation, type, CR LF (§7.5.4).
  const xref = [`xref\n0 ${objects.length + 1}\n`, '0000000000 65535 f\r\n', ...offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`)].join('');
  chunks.push(Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`));
  return Buffer.concat(chunks);
}
