import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { freePort, parseCollectionText, startIppPrinter } from '../helpers/ipp-printer.js';
import { pdfWithPages, sha256, sha256File } from '../helpers/test-pdf.js';
import { FAST_QUEUE, b64, modeOf, startPrinting } from './print-harness.js';

/**
 * The queue against a real ippeveprinter: the document arrives byte-identical on the mapped tray,
 * busy printers are retried, refusals end the job with the printer's reason, nothing personal in
 * logs or events, spool files private and gone after the end.
 */
const JOB_NAME = 'AU Hildegard Müller-Lüdenscheidt 1947';
const SECRET_LINE = 'Befund-Inhalt-7f3a9c';

const printer = await startIppPrinter({ duplex: true });
t.teardown(() => printer.stop());

const config = {
  printers: [{ id: 'empfang', name: 'Empfang', uri: printer.uri }],
  documentTypes: {
    au: { printer: 'empfang', tray: 'main', mediaSize: 'A4', sides: 'two-sided-long-edge', copies: 2 },
    etikett: { printer: 'empfang', tray: 'by-pass-tray' },
    brief: { printer: 'empfang', tray: 'tray-9' },
    other: { printer: 'empfang' },
  },
  queue: FAST_QUEUE,
};
const p = await startPrinting(config);
t.teardown(() => p.stop());

t.test('au: byte-identical on the mapped tray, sides and copies; events in order; spool gone', async (t) => {
  const pdf = pdfWithPages(3, SECRET_LINE);
  const reply = await p.run('print', { docType: 'au', pdf: b64(pdf), jobName: JOB_NAME });
  t.match(reply, { docType: 'au', printerId: 'empfang', state: 'queued', size: pdf.length });
  const jobId = String(reply['jobId']);
  const end = await p.waitForJob(jobId);
  t.equal(end.state, 'completed');
  t.same(p.jobEvents(jobId).map((e) => e.state), ['queued', 'sending', 'processing', 'completed']);
  const printerJobId = end.printerJobId ?? -1;
  const seen = await printer.capturedJob(printerJobId);
  t.equal(await sha256File(seen.documentPath), sha256(pdf), 'document unchanged');
  t.same(parseCollectionText(seen.env['IPP_MEDIA_COL'] ?? ''), { 'media-size': { 'x-dimension': '21000', 'y-dimension': '29700' }, 'media-source': 'main' }, 'the tray the printer saw is the mapping');
  t.equal(seen.env['IPP_SIDES'], 'two-sided-long-edge');
  t.equal(seen.env['IPP_COPIES'], '2');
  t.match(seen.env['IPP_JOB_NAME'], new RegExp(`^PBX-${jobId.slice(-8)} ${JOB_NAME}$`), 'the printer shows marker and name');
  await t.rejects(fs.stat(path.join(p.dir, 'spool', 'print', `${jobId}.pdf`)), { code: 'ENOENT' }, 'spool file deleted');
  t.equal(await modeOf(path.join(p.dir, 'printing', 'jobs', `${jobId}.json`)), 0o600);
  const view = await p.run('print.jobs', { jobId });
  t.match(view, { state: 'completed', printerJobId, printerJobState: 'completed' });
});

t.test('etikett: the size loaded in the by-pass tray goes with it; copies from the command win', async (t) => {
  const reply = await p.run('print', { docType: 'etikett', pdf: b64(pdfWithPages(1)), copies: 3 });
  const end = await p.waitForJob(String(reply['jobId']));
  t.equal(end.state, 'completed');
  const seen = await printer.capturedJob(end.printerJobId ?? -1);
  t.match(parseCollectionText(seen.env['IPP_MEDIA_COL'] ?? ''), { 'media-source': 'by-pass-tray' });
  t.equal(seen.env['IPP_COPIES'], '3');
});

t.test('a document type without its own mapping goes to other; with neither it is refused', async (t) => {
  const reply = await p.run('print', { docType: 'rezept', pdf: b64(pdfWithPages(1)) });
  t.match(reply, { docType: 'rezept', printerId: 'empfang' });
  t.equal((await p.waitForJob(String(reply['jobId']))).state, 'completed');
  const bare = await startPrinting({ printers: config.printers, documentTypes: { au: { printer: 'empfang' } } });
  t.teardown(() => bare.stop());
  await t.rejects(bare.run('print', { docType: 'rezept', pdf: b64(pdfWithPages(1)) }), { code: 'InvalidConfig', message: 'no printer configured for document type rezept (nor for other)' });
});

t.test('unknown tray: a warning in printers.list, status and health; the job fails with the printer offer', async (t) => {
  const list = await p.run('printers.list', {});
  const printers = list['printers'] as Array<Record<string, unknown>>;
  t.match(printers[0], {
    id: 'empfang',
    reachable: true,
    tls: 'none',
    state: { state: 'idle', acceptingJobs: true },
    capabilities: { acceptsPdf: true, trays: ['auto', 'main', 'manual', 'by-pass-tray'], duplex: true },
    documentTypes: ['au', 'etikett', 'brief', 'other'],
    warnings: ['brief: tray tray-9 is unknown to the printer (offers: auto, main, manual, by-pass-tray)'],
  });
  t.match(list['documentTypes'], [
    { docType: 'au', label: 'Arbeitsunfähigkeitsbescheinigung', printerId: 'empfang', via: 'au', ticket: { tray: 'main', sides: 'two-sided-long-edge', copies: 2 } },
    { docType: 'rezept', printerId: 'empfang', via: 'other' },
  ]);
  t.same(p.module.status()['warnings'], ['brief → empfang: tray tray-9 is unknown to the printer (offers: auto, main, manual, by-pass-tray)']);
  t.match(p.module.healthcheck(), { level: 'degraded', reason: /tray tray-9 is unknown/ });
  const reply = await p.run('print', { docType: 'brief', pdf: b64(pdfWithPages(1)) });
  t.same(reply['warnings'], ['tray tray-9 is unknown to the printer (offers: auto, main, manual, by-pass-tray)'], 'the reply warns at once');
  const end = await p.waitForJob(String(reply['jobId']));
  t.match(end, { state: 'failed', failure: 'refused', reason: 'printer does not support tray tray-9 (offers: auto, main, manual, by-pass-tray)' });
});

t.test('print.test: a test page naming box, printer and tray, on the tray of a document type', async (t) => {
  const reply = await p.run('print.test', { printerId: 'empfang', docType: 'etikett' });
  t.match(reply, { docType: 'etikett', state: 'queued' });
  const end = await p.waitForJob(String(reply['jobId']));
  t.equal(end.test, true);
  const seen = await printer.capturedJob(end.printerJobId ?? -1);
  const text = (await fs.readFile(seen.documentPath)).toString('latin1');
  for (const want of ['Box: pbx-testbox00001', 'Drucker: Empfang \\(empfang\\)', 'Fach: by-pass-tray', 'Dokumenttyp: Etikett']) t.ok(text.includes(want), want);
  t.match(parseCollectionText(seen.env['IPP_MEDIA_COL'] ?? ''), { 'media-source': 'by-pass-tray' });
  await t.rejects(p.run('print.test', { printerId: 'keller' }), { code: 'NotFound', message: 'no printer with id keller' });
});

t.test('requestId: the same key twice is one job', async (t) => {
  const first = await p.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)), requestId: 'cmd-4711' });
  const again = await p.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)), requestId: 'cmd-4711' });
  t.equal(again['jobId'], first['jobId']);
  t.equal(again['duplicate'], true);
  await p.waitForJob(String(first['jobId']));
  t.equal(p.events.filter((e) => e.data['requestId'] === 'cmd-4711' && e.data['state'] === 'queued').length, 1);
});

t.test('bad input is refused before anything is stored, without echoing it', async (t) => {
  const before = (await fs.readdir(path.join(p.dir, 'printing', 'jobs'))).length;
  await t.rejects(p.run('print', { docType: 'au', pdf: 'JVBERi0x%%%=' }), { code: 'InvalidInput', message: 'pdf is not valid base64' });
  await t.rejects(p.run('print', { docType: 'au', pdf: b64(Buffer.from(`Müller ${JOB_NAME} kein PDF`)) }), { code: 'InvalidInput', message: 'document is not a PDF (no %PDF- header)' });
  await t.rejects(p.run('print', { docType: 'AU!', pdf: b64(pdfWithPages(1)) }), { code: 'InvalidInput', message: /invalid arguments for print: \/docType/ });
  await t.rejects(p.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)), copies: 0 }), { code: 'InvalidInput', message: /\/copies/ });
  await t.rejects(p.run('print.cancel', { jobId: '01HZX3V8Q6W4K2M9N7P5R3T1AB' }), { code: 'NotFound' });
  const done = (await p.run('print.jobs', {}))['jobs'] as Array<{ jobId: string; state: string }>;
  const finished = done.find((j) => j.state === 'completed');
  await t.rejects(p.run('print.cancel', { jobId: finished?.jobId }), { code: 'CommandRejected', message: 'print job already completed' });
  t.equal((await fs.readdir(path.join(p.dir, 'printing', 'jobs'))).length, before);
});

t.test('busy printer: retried with backoff until it takes the job', async (t) => {
  const slow = await startIppPrinter({ jobSeconds: 2, capture: false, name: 'Slow Printer' });
  t.teardown(() => slow.stop());
  const q = await startPrinting({ printers: [{ id: 'slow', uri: slow.uri }], documentTypes: { other: { printer: 'slow' } }, queue: FAST_QUEUE });
  t.teardown(() => q.stop());
  const other = new IppClient({ printer: { uri: slow.uri } });
  t.teardown(() => other.close());
  const blocker = await other.printJob({ document: Readable.from([pdfWithPages(1)]) });
  await new Promise((r) => setTimeout(r, 200));
  const reply = await q.run('print', { docType: 'befund', pdf: b64(pdfWithPages(1)) });
  const end = await q.waitForJob(String(reply['jobId']), undefined, 20_000);
  t.equal(end.state, 'completed');
  t.ok(end.attempts >= 2, `sent ${end.attempts} times: busy answers were retried`);
  const states = q.jobEvents(String(reply['jobId'])).map((e) => e.state);
  t.same(states.slice(0, 3), ['queued', 'sending', 'queued'], 'busy puts it back in the queue');
  t.same(states.slice(-3), ['sending', 'processing', 'completed']);
  t.match(q.logText(), /queued again \(retry in \d+ ms: printer is busy with another job/);
  t.match(q.jobEvents(String(reply['jobId']))[2], { state: 'queued', lastError: /printer is busy/ });
  t.equal((await other.getJob(blocker.jobId)).state, 'completed');
});

t.test('a printer that does not take PDF: clear error, warning in printers.list', async (t) => {
  const raster = await startIppPrinter({ formats: ['image/pwg-raster'], capture: false, name: 'Raster Only' });
  t.teardown(() => raster.stop());
  const q = await startPrinting({ printers: [{ id: 'raster', uri: raster.uri }], documentTypes: { au: { printer: 'raster' } }, queue: FAST_QUEUE });
  t.teardown(() => q.stop());
  const reply = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)) });
  const end = await q.waitForJob(String(reply['jobId']));
  t.match(end, { state: 'failed', failure: 'refused', reason: /^printer does not accept PDF \(document-format-supported: .*image\/pwg-raster/, attempts: 1 });
  const list = await q.run('printers.list', {});
  t.match((list['printers'] as unknown[])[0], { capabilities: { acceptsPdf: false }, warnings: [/^au: printer does not accept PDF/] });
});

t.test('unreachable printer: spool 0600 while waiting, cancel at once, deadline with the reason', async (t) => {
  const port = await freePort();
  const q = await startPrinting({
    printers: [{ id: 'weg', uri: `ipp://127.0.0.1:${port}/ipp/print` }],
    documentTypes: { other: { printer: 'weg' } },
    queue: { ...FAST_QUEUE, deadlineMinutes: 0.02 },
  });
  t.teardown(() => q.stop());
  const waiting = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)), jobName: JOB_NAME });
  const jobId = String(waiting['jobId']);
  const spool = path.join(q.dir, 'spool', 'print', `${jobId}.pdf`);
  t.equal(await modeOf(spool), 0o600, 'spool file private');
  t.equal(await modeOf(path.dirname(spool)), 0o700);
  t.equal(await modeOf(path.join(q.dir, 'printing', 'jobs')), 0o700);
  const canceled = await q.run('print', { docType: 'au', pdf: b64(pdfWithPages(1)) });
  const cancelReply = await q.run('print.cancel', { jobId: canceled['jobId'] });
  t.equal(cancelReply['jobId'], canceled['jobId']);
  t.match(await q.waitForJob(String(canceled['jobId'])), { state: 'canceled', reason: 'canceled before it was sent' });
  const end = await q.waitForJob(jobId, undefined, 10_000);
  t.match(end, { state: 'failed', failure: 'deadline', reason: /^not printed before the deadline: printer is not reachable \(ECONNREFUSED\)$/ });
  t.ok(end.attempts >= 2, `${end.attempts} attempts before the deadline`);
  await t.rejects(fs.stat(spool), { code: 'ENOENT' });
  t.match(q.events.find((e) => e.type === 'printer.state'), { data: { printerId: 'weg', reachable: false, state: 'unreachable' } });
  t.match(q.module.healthcheck(), { level: 'ok' }, 'nothing waits for it any more');
});

t.test('nothing personal in logs or events', async (t) => {
  const all = p.logText() + JSON.stringify(p.events);
  t.notOk(all.includes('Müller'), 'job name not logged');
  t.notOk(all.includes(SECRET_LINE), 'document content not logged');
  t.notOk(all.includes(b64(pdfWithPages(3, SECRET_LINE)).slice(0, 40)), 'no base64 of the document');
  t.ok(p.events.some((e) => e.type === 'printer.state' && e.data['printerId'] === 'empfang' && e.data['reachable'] === true), 'printer.state reported');
});
