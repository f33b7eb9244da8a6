import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { DelimiterTag } from '../../agent/printing/ipp/constants.js';
import { decodeMessage } from '../../agent/printing/ipp/decode.js';
import { attribute, boolean, collection, enumValue, integer, keyword, mimeMediaType, rangeOfInteger, text, type IppAttribute, type IppMessage } from '../../agent/printing/ipp/ipp-value.js';
import { PrintError, errorForStatus, isRetryable } from '../../agent/printing/print-error.js';
import { assertAcceptsPdf, parseCapabilities, problemOf, readiness } from '../../agent/printing/printer-capabilities.js';
import { MediaSizes, jobTemplateAttributes } from '../../agent/printing/print-ticket.js';
import { repoRoot } from '../helpers/fixtures.js';

const real = decodeMessage(fs.readFileSync(path.join(repoRoot, 'test/printing/data/ippeveprinter-printer-attributes.bin')));

function printerMessage(attributes: IppAttribute[]): IppMessage {
  return { version: { major: 2, minor: 0 }, code: 0, requestId: 1, groups: [{ name: 'printer', tag: DelimiterTag.printer, attributes }] };
}

t.test('capabilities of a real ippeveprinter (-2, PDF)', async (t) => {
  const caps = parseCapabilities(real);
  t.equal(caps.acceptsPdf, true);
  t.same(caps.documentFormats, ['application/octet-stream', 'application/pdf']);
  t.same(caps.trays, ['auto', 'main', 'manual', 'by-pass-tray']);
  t.same(caps.sides, { supported: ['one-sided', 'two-sided-long-edge', 'two-sided-short-edge'], default: 'one-sided', duplex: true });
  t.same(caps.color, { supported: false, modes: ['monochrome'], default: 'monochrome' });
  t.same(caps.copies, { max: 999, default: 1 });
  t.same(caps.mediaReady, [
    { source: 'main', type: 'stationery', size: { x: 21590, y: 27940 } },
    { source: 'by-pass-tray', type: 'envelope', size: { x: 10477, y: 24130 } },
  ]);
  t.same(caps.mediaDefault, { source: 'main', type: 'stationery', size: { x: 21590, y: 27940 } });
  t.ok(caps.mediaSizes.some((s) => s.x === 21000 && s.y === 29700), 'A4 is among media-size-supported');
  t.ok(caps.ippVersions.includes('2.0'));
  t.ok(caps.operations.includes(0x0002) && caps.operations.includes(0x000b));
  t.equal(caps.status.state, 'idle');
  t.same(caps.status.reasons, []);
  t.equal(caps.status.acceptingJobs, true);
  t.same(readiness(caps.status), { ready: true, blockedBy: [] });
  t.doesNotThrow(() => assertAcceptsPdf(caps));
});

t.test('a printer without PDF gets the clear error, with what it does take', async (t) => {
  const caps = parseCapabilities(printerMessage([attribute('document-format-supported', mimeMediaType('application/octet-stream'), mimeMediaType('image/pwg-raster'))]));
  t.equal(caps.acceptsPdf, false);
  try {
    assertAcceptsPdf(caps);
    t.fail('should throw');
  } catch (err) {
    t.ok(err instanceof PrintError);
    const e = err as PrintError;
    t.equal(e.reason, 'pdf-not-supported');
    t.equal(e.code, 'InvalidConfig');
    t.equal(e.retryable, false);
    t.equal(e.message, 'printer does not accept PDF (document-format-supported: application/octet-stream, image/pwg-raster)');
  }
  t.equal(parseCapabilities(printerMessage([attribute('document-format-supported', mimeMediaType('Application/PDF'))])).acceptsPdf, true, 'MIME types compare case-insensitively');
});

t.test('state reasons become typed problems with severities', async (t) => {
  const caps = parseCapabilities(
    printerMessage([
      attribute('printer-state', enumValue(5)),
      attribute('printer-state-reasons', keyword('media-empty-error'), keyword('media-jam'), keyword('offline-report'), keyword('toner-low-warning'), keyword('cover-open-error'), keyword('spool-area-full-error')),
      attribute('printer-state-message', text('Papier nachfüllen')),
      attribute('printer-is-accepting-jobs', boolean(false)),
      attribute('queued-job-count', integer(2)),
    ]),
  );
  t.equal(caps.status.state, 'stopped');
  t.same(
    caps.status.problems.map((p) => [p.kind, p.severity]),
    [['paper-out', 'error'], ['jam', 'error'], ['offline', 'report'], ['toner-low', 'warning'], ['door-open', 'error'], ['other', 'error']],
  );
  t.equal(caps.status.acceptingJobs, false);
  t.equal(caps.status.queuedJobs, 2);
  t.equal(caps.status.message, 'Papier nachfüllen');
  const r = readiness(caps.status);
  t.equal(r.ready, false);
  t.same(r.blockedBy.map((p) => p.keyword), ['media-empty-error', 'media-jam', 'cover-open-error']);
  t.same(problemOf('offline'), { kind: 'offline', severity: 'error', keyword: 'offline' });
  t.same(problemOf('media-needed-warning'), { kind: 'paper-out', severity: 'warning', keyword: 'media-needed-warning' });
  t.same(readiness(parseCapabilities(printerMessage([attribute('printer-state', enumValue(4)), attribute('printer-state-reasons', keyword('none'))])).status), { ready: true, blockedBy: [] });
});

t.test('an empty or odd answer still gives a usable model', async (t) => {
  const caps = parseCapabilities(printerMessage([attribute('printer-state', enumValue(42)), attribute('copies-supported', integer(5)), attribute('sides-supported', keyword('one-sided'), keyword('bogus'))]));
  t.equal(caps.status.state, 'unknown');
  t.same(caps.copies, { max: 1, default: 1 });
  t.same(caps.sides.supported, ['one-sided']);
  t.equal(caps.acceptsPdf, false);
  t.same(caps.trays, []);
});

t.test('print ticket → Job Template attributes', async (t) => {
  const caps = parseCapabilities(real);
  t.same(jobTemplateAttributes({}, caps), []);
  t.same(jobTemplateAttributes({ tray: 'main', mediaSize: MediaSizes.A4, sides: 'two-sided-long-edge', colorMode: 'monochrome', copies: 3, mediaType: 'stationery' }, caps), [
    attribute('copies', integer(3)),
    attribute('sides', keyword('two-sided-long-edge')),
    attribute('print-color-mode', keyword('monochrome')),
    attribute('media-col', collection({ 'media-size': collection({ 'x-dimension': integer(21000), 'y-dimension': integer(29700) }), 'media-source': keyword('main'), 'media-type': keyword('stationery') })),
  ]);
  t.same(jobTemplateAttributes({ tray: 'by-pass-tray' }, caps), [
    attribute('media-col', collection({ 'media-size': collection({ 'x-dimension': integer(10477), 'y-dimension': integer(24130) }), 'media-source': keyword('by-pass-tray') })),
  ], 'size taken from what is loaded in the tray');
  t.same(jobTemplateAttributes({ tray: 'manual' }, caps), [attribute('media-col', collection({ 'media-source': keyword('manual') }))], 'nothing loaded: source only');
  const reject = (ticket: Parameters<typeof jobTemplateAttributes>[0], message: RegExp): void => {
    t.throws(() => jobTemplateAttributes(ticket, caps), { name: 'PraxisboxError(InvalidConfig)', code: 'InvalidConfig', message });
  };
  reject({ tray: 'tray-9' }, /tray tray-9 \(offers: auto, main, manual, by-pass-tray\)/);
  reject({ colorMode: 'color' }, /print-color-mode color/);
  reject({ copies: 1000 }, /at most 999 copies/);
  reject({ copies: 0 }, /at least 1/);
  reject({ mediaSize: { x: 0, y: 10 } }, /positive/);
  const simplex = parseCapabilities(printerMessage([attribute('sides-supported', keyword('one-sided')), attribute('copies-supported', rangeOfInteger(1, 1))]));
  t.throws(() => jobTemplateAttributes({ sides: 'two-sided-short-edge' }, simplex), { code: 'InvalidConfig', message: /sides two-sided-short-edge/ });
});

t.test('IPP status → retryable or final', async (t) => {
  const cases: Array<[number, string, boolean, string]> = [
    [0x0507, 'busy', true, 'DeviceUnavailable'],
    [0x0506, 'unavailable', true, 'DeviceUnavailable'],
    [0x0502, 'unavailable', true, 'DeviceUnavailable'],
    [0x0402, 'auth-failed', false, 'InvalidConfig'],
    [0x040a, 'pdf-not-supported', false, 'InvalidConfig'],
    [0x040b, 'option-not-supported', false, 'InvalidConfig'],
    [0x0406, 'job-not-found', false, 'NotFound'],
    [0x0400, 'rejected', false, 'CommandRejected'],
    [0x0501, 'rejected', false, 'CommandRejected'],
  ];
  for (const [code, reason, retryable, errorCode] of cases) {
    const e = errorForStatus(code, 'Print-Job', { jobOperation: true, requestComplete: true });
    t.same([e.reason, e.retryable, e.code, isRetryable(e)], [reason, retryable, errorCode, retryable], `0x${code.toString(16)}`);
  }
  t.equal(errorForStatus(0x0507, 'Print-Job', { jobOperation: true, requestComplete: true }).message, 'printer is busy with another job (Print-Job answered server-error-busy); try again later');
  t.equal(errorForStatus(0x0406, 'Get-Printer-Attributes', { jobOperation: false, requestComplete: true }).reason, 'rejected');
  t.equal(errorForStatus(0x04ff, 'Print-Job', { jobOperation: true, requestComplete: true }).ippStatus, '0x04ff');
  t.equal(isRetryable(new Error('x')), false);
});
