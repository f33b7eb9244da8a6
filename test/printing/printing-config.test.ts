import t from 'tap';
import { Value } from '@sinclair/typebox/value';
import { ConfigSchema } from '../../agent/config/schema.js';
import { checkMapping, ticketFor } from '../../agent/printing/mapping-check.js';
import { decodePdfArgument } from '../../agent/printing/pdf-argument.js';
import { DOCUMENT_TYPES, mappingFor, printingConfig, printingConfigProblems } from '../../agent/printing/printing-config.js';
import type { PrinterCapabilities } from '../../agent/printing/printer-capabilities.js';
import { pdfWithPages } from '../helpers/test-pdf.js';

t.test('defaults: {} is a valid, empty printing section', async (t) => {
  const c = printingConfig({});
  t.same(c.printers, []);
  t.same(c.documentTypes, {});
  t.same(c.queue, { deadlineMinutes: 60, retryBaseMs: 2_000, retryMaxMs: 60_000, pollMs: 1_000, followHours: 24, keepFinishedHours: 48, maxDocumentBytes: 64 * 1024 * 1024, statusPollSeconds: 30 });
  t.same(Object.keys(DOCUMENT_TYPES), ['au', 'rezept', 'ueberweisung', 'befund', 'etikett', 'brief', 'other']);
  const whole = Value.Default(ConfigSchema, {}) as { printing: unknown };
  t.same(whole.printing, c, 'part of the one config schema');
});

t.test('mapping defaults, fallback to other, ticket', async (t) => {
  const c = printingConfig({
    printers: [{ id: 'empfang', uri: 'ipp://10.0.0.5/ipp/print' }],
    documentTypes: { au: { printer: 'empfang', tray: 'tray-2', mediaSize: 'A5', sides: 'one-sided', color: 'monochrome' }, other: { printer: 'empfang' }, brief: {} },
  });
  t.same(c.printers[0], { id: 'empfang', name: '', uri: 'ipp://10.0.0.5/ipp/print', username: '', certSha256: [], caFile: '', serverName: '' });
  t.same(c.documentTypes['brief'], { printer: '', tray: '', mediaSize: '', sides: '', copies: 1, color: '' });
  t.equal(mappingFor(c, 'au')?.via, 'au');
  t.equal(mappingFor(c, 'brief')?.via, 'other', 'a mapping without printer falls back');
  t.equal(mappingFor(c, 'rezept')?.via, 'other');
  t.same(ticketFor(c.documentTypes['au'] ?? ({} as never)), { tray: 'tray-2', mediaSize: { x: 14800, y: 21000 }, sides: 'one-sided', colorMode: 'monochrome', copies: 1 });
  t.same(ticketFor(c.documentTypes['other'] ?? ({} as never), 4), { copies: 4 });
  t.equal(mappingFor(printingConfig({}), 'au'), undefined);
});

t.test('schema errors and cross-field problems name the path', async (t) => {
  t.throws(() => printingConfig({ printers: [{ id: 'Empfang!', uri: 'http://x' }] }), /\/printers\/0\/id.*|\/printers\/0\/uri/);
  t.throws(() => printingConfig({ documentTypes: { 'AU': { printer: 'x' } } }), /invalid printing configuration/);
  t.throws(() => printingConfig({ documentTypes: { au: { copies: 0 } } }), /\/documentTypes\/au\/copies/);
  t.throws(() => printingConfig({ printers: [{ id: 'a', uri: 'ipps://x/ipp/print', certSha256: ['12:34'] }] }), /certSha256/);
  const c = printingConfig({
    printers: [
      { id: 'a', uri: 'ipp://x/ipp/print', certSha256: ['AB'.repeat(32)] },
      { id: 'a', uri: 'ipps://y/ipp/print' },
    ],
    documentTypes: { au: { printer: 'keller' } },
    queue: { retryBaseMs: 5_000, retryMaxMs: 1_000 },
  });
  t.same(printingConfigProblems(c), [
    '/printers/0: certificate settings need an ipps:// URI',
    '/printers/1/id: same id as /printers/0',
    '/documentTypes/au/printer: no printer with id keller',
    '/queue/retryMaxMs: smaller than retryBaseMs',
  ]);
});

const caps = (over: Partial<PrinterCapabilities> = {}): PrinterCapabilities =>
  ({
    acceptsPdf: true,
    documentFormats: ['application/pdf'],
    trays: ['auto', 'tray-1', 'tray-2'],
    sides: { supported: ['one-sided'], default: 'one-sided', duplex: false },
    color: { supported: false, modes: ['monochrome'], default: 'monochrome' },
    copies: { max: 9, default: 1 },
    ...over,
  }) as PrinterCapabilities;

t.test('checkMapping: every way a mapping can miss the printer', async (t) => {
  const m = { printer: 'p', tray: 'tray-3', mediaSize: '' as const, sides: 'two-sided-long-edge' as const, copies: 12, color: 'color' as const };
  t.same(
    checkMapping('au', m, caps({ acceptsPdf: false, documentFormats: ['image/urf'] })).map((w) => w.message),
    [
      'printer does not accept PDF (offers: image/urf)',
      'tray tray-3 is unknown to the printer (offers: auto, tray-1, tray-2)',
      'sides two-sided-long-edge is not offered (offers: one-sided)',
      'colour mode color is not offered (offers: monochrome)',
      "copies 12 exceed the printer's maximum of 9",
    ],
  );
  t.same(checkMapping('au', { ...m, tray: 'tray-2', sides: 'one-sided', copies: 1, color: 'monochrome' }, caps()), []);
  t.same(checkMapping('au', { ...m, tray: 'tray-2', sides: '', copies: 1, color: '' }, caps({ trays: [] })).map((w) => w.message), ['tray tray-2 set, but the printer lists no trays (media-source-supported)']);
  t.same(checkMapping('etikett', { ...m, tray: '', sides: '', copies: 1, color: 'color' }, caps({ color: { supported: true, modes: [], default: undefined } })), [], 'old printers without print-color-mode: colour is enough');
  t.same(checkMapping('etikett', { ...m, tray: '', sides: '', copies: 1, color: '' }, caps())[0], undefined);
});

t.test('decodePdfArgument: base64, PDF header, size', async (t) => {
  const pdf = pdfWithPages(1);
  t.same(decodePdfArgument(pdf.toString('base64'), 1_000_000), pdf);
  const wrapped = pdf.toString('base64').replace(/.{76}/g, '$&\r\n');
  t.same(decodePdfArgument(wrapped, 1_000_000), pdf, 'MIME line breaks are fine');
  t.throws(() => decodePdfArgument(pdf.toString('base64').slice(1), 1_000_000), { code: 'InvalidInput', message: 'pdf is not valid base64' });
  t.throws(() => decodePdfArgument(pdf.toString('base64url'), 1_000_000), { message: 'pdf is not valid base64' });
  t.throws(() => decodePdfArgument(`${pdf.toString('base64').slice(0, -4)}A=B=`, 1_000_000), { message: 'pdf is not valid base64' });
  t.throws(() => decodePdfArgument(pdf.toString('base64'), pdf.length - 1), { code: 'InvalidInput', message: `document of ${pdf.length} bytes exceeds the limit of ${pdf.length - 1} bytes (printing.queue.maxDocumentBytes)` });
  t.throws(() => decodePdfArgument(Buffer.from('GIF89a not a pdf').toString('base64'), 1_000), { message: 'document is not a PDF (no %PDF- header)' });
  const late = Buffer.concat([Buffer.alloc(1100, 0x20), pdf]);
  t.throws(() => decodePdfArgument(late.toString('base64'), 1_000_000), { message: /not a PDF/ }, 'header beyond 1024 bytes');
  const junkFirst = Buffer.concat([Buffer.from('\x1b%-12345X@PJL\r\n'), pdf]);
  t.same(decodePdfArgument(junkFirst.toString('base64'), 1_000_000), junkFirst, 'a header after a PJL prefix is accepted, bytes unchanged');
});
