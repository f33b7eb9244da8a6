import t from 'tap';
import { startIppPrinter } from '../helpers/ipp-printer.js';
import { pdfWithPages } from '../helpers/test-pdf.js';
import { FAST_QUEUE, b64, startPrinting } from './print-harness.js';

/** Printer settings from the configuration reach the client: ipps pins, CA files, a broken entry. */

const printer = await startIppPrinter({ tls: true, name: 'TLS Printer' });
t.teardown(() => printer.stop());

t.test('ipps with the pinned certificate prints; a wrong pin refuses before a byte of the document', async (t) => {
  const wrong = `${'AB:'.repeat(31)}AB`;
  const q = await startPrinting({
    printers: [
      { id: 'gut', uri: printer.secureUri, certSha256: [printer.certFingerprint ?? ''] },
      { id: 'falsch', uri: printer.secureUri, certSha256: [wrong] },
    ],
    documentTypes: { au: { printer: 'gut', tray: 'main' }, rezept: { printer: 'falsch' } },
    queue: FAST_QUEUE,
  });
  t.teardown(() => q.stop());
  const ok = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)) });
  t.equal((await q.waitForJob(String(ok['jobId']))).state, 'completed');
  const refused = await q.run('print', { docType: 'rezept', pdf: b64(pdfWithPages(1)) });
  t.match(await q.waitForJob(String(refused['jobId'])), { state: 'failed', failure: 'refused', reason: /certificate/, attempts: 1 });
  const list = (await q.run('printers.list', {}))['printers'] as Array<Record<string, unknown>>;
  t.match(list, [{ id: 'gut', tls: 'pinned', reachable: true }, { id: 'falsch', tls: 'pinned', reachable: false, error: /certificate/ }]);
});

t.test('a printer whose settings cannot be used: health says why, its jobs wait and fail at the deadline with that reason', async (t) => {
  const q = await startPrinting({
    printers: [{ id: 'kaputt', uri: printer.secureUri, caFile: '/nonexistent/praxis-ca.pem' }],
    documentTypes: { other: { printer: 'kaputt' } },
    queue: { ...FAST_QUEUE, deadlineMinutes: 0.01 },
  });
  t.teardown(() => q.stop());
  t.match(q.module.healthcheck(), { level: 'degraded', reason: 'printer kaputt cannot be used: InvalidConfig: CA file of printer kaputt cannot be read (ENOENT)' });
  const reply = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)) });
  t.match(await q.waitForJob(String(reply['jobId'])), { state: 'failed', failure: 'deadline', reason: /cannot be used: InvalidConfig: CA file of printer kaputt cannot be read \(ENOENT\)$/ });
});
