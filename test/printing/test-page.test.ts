import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { buildPdf } from '../../agent/printing/pdf-document.js';
import { testPagePdf } from '../../agent/printing/test-page.js';
import { tempDir } from '../helpers/fixtures.js';
import { writeLargePdf } from '../helpers/test-pdf.js';

/** Checks the structure a PDF reader relies on: every xref offset points at its object, startxref at the xref. */
function checkXref(t: { equal: (...a: [unknown, unknown, string]) => unknown }, pdf: Buffer): number {
  const text = pdf.toString('latin1');
  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1]);
  t.equal(text.slice(startxref, startxref + 5), 'xref\n', 'startxref points at the xref table');
  const header = /^xref\n0 (\d+)\n/.exec(text.slice(startxref));
  const count = Number(header?.[1]);
  const entries = text.slice(startxref + (header?.[0].length ?? 0)).split('\r\n').slice(0, count);
  t.equal(entries[0], '0000000000 65535 f', 'object 0 is free');
  entries.slice(1).forEach((e, i) => {
    const offset = Number(e.slice(0, 10));
    t.equal(text.slice(offset, offset + `${i + 1} 0 obj`.length), `${i + 1} 0 obj`, `object ${i + 1} is where the xref says`);
  });
  return count - 1;
}

t.test('test page names box, printer and tray in WinAnsi text', async (t) => {
  const pdf = testPagePdf({ boxId: 'PBX-0042', printerName: 'Empfang Kyocera', tray: 'tray-2', documentType: 'Arbeitsunfähigkeitsbescheinigung', printedAt: new Date('2026-11-30T08:00:00Z') });
  const text = pdf.toString('latin1');
  t.ok(text.startsWith('%PDF-1.4\n'));
  t.ok(text.includes('(Praxisbox \x96 Testseite) Tj'), 'en dash as WinAnsi 0x96');
  t.ok(text.includes("(Box: PBX-0042) '"));
  t.ok(text.includes("(Drucker: Empfang Kyocera) '"));
  t.ok(text.includes("(Fach: tray-2) '"));
  t.ok(text.includes("(Dokumenttyp: Arbeitsunf\xe4higkeitsbescheinigung) '"), 'ä as one WinAnsi byte');
  t.ok(text.includes("(Gedruckt: 2026-11-30T08:00:00.000Z) '"));
  t.equal(checkXref(t, pdf), 5);
  t.ok(testPagePdf({ boxId: 'b', printerName: 'p', tray: undefined, printedAt: new Date(0) }).toString('latin1').includes('(Fach: automatisch)'));
});

t.test('text is escaped and unknown characters become ?', async (t) => {
  const pdf = buildPdf([{ lines: ['a(b)c\\d', 'Grüße „ok“ € 😀'] }]).toString('latin1');
  t.ok(pdf.includes('(a\\(b\\)c\\\\d) Tj'));
  t.ok(pdf.includes("(Gr\xfc\xdfe \x84ok\x93 \x80 ?) '"));
  t.throws(() => buildPdf([]));
});

t.test('multi-page documents have one page object per page', async (t) => {
  const pdf = buildPdf(Array.from({ length: 50 }, (_, i) => ({ lines: [`Seite ${i + 1}`] })));
  t.equal(checkXref(t, pdf), 3 + 50 * 2);
  t.match(pdf.toString('latin1'), /\/Count 50 >>/);
});

t.test('the large test PDF has exactly the requested size and a valid xref', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'big.pdf');
  for (const size of [4096, 123_457, 2 * 1024 * 1024 + 3]) {
    await writeLargePdf(file, size);
    const pdf = await fs.readFile(file);
    t.equal(pdf.length, size);
    t.equal(checkXref(t, pdf), 4);
  }
});
