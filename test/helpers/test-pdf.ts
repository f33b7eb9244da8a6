import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { buildPdf } from '../../agent/printing/pdf-document.js';

/** Test documents: small real PDFs, and a large one written to disk in chunks (never in memory). */

export function pdfWithPages(count: number, label = 'Testdokument'): Buffer {
  return buildPdf(
    Array.from({ length: count }, (_, i) => ({
      lines: [`${label} – Seite ${i + 1} von ${count}`, '', 'Müller, Jörg · Überweisung · Straße 1 · ß', 'x'.repeat(80)],
    })),
  );
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await fs.open(file, 'r');
  try {
    for await (const chunk of fh.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await fh.close().catch(() => undefined);
  }
  return hash.digest('hex');
}

/**
 * A valid one-page PDF of exactly `totalBytes`: the page, then an unreferenced stream object of
 * random bytes (incompressible, like scanned findings) padding the file, then a correct xref.
 */
export async function writeLargePdf(file: string, totalBytes: number): Promise<void> {
  const head = '%PDF-1.4\n';
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>',
  ].map((body, i) => `${i + 1} 0 obj\n${body}\nendobj\n`);
  const fixedBefore = head.length + objs.reduce((n, o) => n + o.length, 0);
  const xrefFor = (padLength: number, padOffset: number, xrefOffset: number): string => {
    const offsets: number[] = [];
    let at = head.length;
    for (const o of objs) {
      offsets.push(at);
      at += o.length;
    }
    offsets.push(padOffset);
    return (
      `xref\n0 5\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}` +
      `trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`
    );
  };
  // The trailer's length depends on the digits of the offsets; settle it with two passes.
  let padLength = totalBytes - fixedBefore - 200;
  for (let i = 0; i < 3; i++) {
    const padHead = `4 0 obj\n<< /Length ${padLength} >>\nstream\n`;
    const padTail = '\nendstream\nendobj\n';
    const xrefOffset = fixedBefore + padHead.length + padLength + padTail.length;
    const total = xrefOffset + xrefFor(padLength, fixedBefore, xrefOffset).length;
    padLength += totalBytes - total;
  }
  const padHead = `4 0 obj\n<< /Length ${padLength} >>\nstream\n`;
  const padTail = '\nendstream\nendobj\n';
  const xrefOffset = fixedBefore + padHead.length + padLength + padTail.length;
  const fh = await fs.open(file, 'w');
  try {
    await fh.write(head + objs.join('') + padHead);
    const chunk = 1024 * 1024;
    for (let left = padLength; left > 0; left -= chunk) await fh.write(randomBytes(Math.min(chunk, left)));
    await fh.write(padTail + xrefFor(padLength, fixedBefore, xrefOffset));
  } finally {
    await fh.close();
  }
}
