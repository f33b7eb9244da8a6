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

t.test('paper out at the printer: a printer.state event, health says so', async (t) => {
  // ippeveprinter takes `STATE:` lines from its job script into printer-state-reasons while the job runs.
  const empty = await startIppPrinter({ jobStderr: ['STATE: +media-empty-error'], jobSeconds: 2, capture: false, name: 'Empty Printer' });
  t.teardown(() => empty.stop());
  const q = await startPrinting({ printers: [{ id: 'leer', uri: empty.uri }], documentTypes: { other: { printer: 'leer' } }, queue: FAST_QUEUE });
  t.teardown(() => q.stop());
  const states = (): Array<Record<string, unknown>> => q.events.filter((e) => e.type === 'printer.state').map((e) => e.data);
  const first = Date.now() + 5_000;
  while (states().length === 0 && Date.now() < first) await new Promise((r) => setTimeout(r, 20));
  t.match(states(), [{ printerId: 'leer', reachable: true, state: 'idle', problems: [] }], 'first observation reported');
  const reply = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)) });
  await q.waitForJob(String(reply['jobId']), ['processing']);
  await new Promise((r) => setTimeout(r, 300));
  await q.run('printers.list', {});
  // ippeveprinter reports what the script said as its own -warning keyword.
  t.match(states().at(-1), { printerId: 'leer', reachable: true, problems: [{ kind: 'paper-out', severity: 'warning', keyword: 'media-empty-warning' }] });
  t.match(q.module.healthcheck(), { level: 'degraded', reason: 'printer leer: paper-out' });
  const count = states().length;
  await q.run('printers.list', {});
  t.equal(states().length, count, 'no event while nothing changed');
  await q.waitForJob(String(reply['jobId']));
});
