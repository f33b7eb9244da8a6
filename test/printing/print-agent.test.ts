import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { startIppPrinter, parseCollectionText } from '../helpers/ipp-printer.js';
import { fixturePatientValues, leakedValues } from '../helpers/patient-values.js';
import { eventually, startTestAgent } from '../helpers/test-agent.js';
import { pdfWithPages, sha256, sha256File, writeLargePdf } from '../helpers/test-pdf.js';
import { modeOf } from './print-harness.js';

/**
 * The print command end to end: the cloud (simulator) sends a PDF too large for one MQTT message
 * (chunked by the cloud link), the whole agent queues it, prints it on the mapped tray and reports
 * every state as print.job events — and no personal value from the shared fixtures reaches the log
 * or an error reply.
 */
const printer = await startIppPrinter();
t.teardown(() => printer.stop());

const box = await startTestAgent({}, {
  config: {
    printing: {
      printers: [{ id: 'empfang', name: 'Empfang', uri: printer.uri, username: 'praxis' }],
      documentTypes: { au: { printer: 'empfang', tray: 'main', mediaSize: 'A4' }, befund: { printer: 'empfang', tray: 'manual' } },
      queue: { pollMs: 50, retryBaseMs: 100, retryMaxMs: 400 },
    },
  },
});
t.teardown(box.stop);
await eventually('cloud link connected', () => box.agent.cloud.status()['link'] === 'connected');
const cloud = await CloudSim.connect({ url: `mqtt://127.0.0.1:${String(box.agent.localBroker.status()['port'])}` });
t.teardown(() => cloud.close());
const view = cloud.box(box.boxId);
const values = fixturePatientValues();

const jobEventsOf = (jobId: string): Array<Record<string, unknown>> =>
  view.events.filter((e) => e.type === 'print.job' && (e.data as { jobId?: string }).jobId === jobId).map((e) => e.data as Record<string, unknown>);

t.test('a chunked print command: queued, printed byte-identical on the mapped tray, events to the cloud', async (t) => {
  const file = path.join(box.dir, 'large.pdf');
  await writeLargePdf(file, 700 * 1024);
  const pdf = await fs.readFile(file);
  const reply = await cloud.command(box.boxId, 'print', { docType: 'befund', pdf: pdf.toString('base64'), jobName: values.slice(0, 2).join(' '), requestId: 'cmd-big-1' }, { id: 'cmd-big-1', timeoutMs: 20_000 });
  t.match(reply, { id: 'cmd-big-1', status: 'ok', data: { docType: 'befund', printerId: 'empfang', state: 'queued', size: pdf.length, requestId: 'cmd-big-1' } });
  const jobId = String((reply as { data: { jobId: string } }).data.jobId);
  await eventually('completed event at the cloud', () => jobEventsOf(jobId).some((e) => e['state'] === 'completed'), 20_000);
  t.same(jobEventsOf(jobId).map((e) => e['state']), ['queued', 'sending', 'processing', 'completed']);
  const printerJobId = Number(jobEventsOf(jobId).at(-1)?.['printerJobId']);
  const seen = await printer.capturedJob(printerJobId);
  t.equal(await sha256File(seen.documentPath), sha256(pdf), 'the re-assembled PDF reached the printer unchanged');
  t.match(parseCollectionText(seen.env['IPP_MEDIA_COL'] ?? ''), { 'media-source': 'manual' });
  t.same(cloud.chunkFailures, []);
});

t.test('printers.list and a small print through the cloud', async (t) => {
  const list = await cloud.command(box.boxId, 'printers.list', {});
  t.match(list, { status: 'ok', data: { printers: [{ id: 'empfang', reachable: true, auth: { username: 'praxis', passwordSet: false }, capabilities: { acceptsPdf: true } }] } });
  const reply = await cloud.command(box.boxId, 'print', { docType: 'au', pdf: pdfWithPages(2, values.slice(2, 4).join(' ')).toString('base64'), jobName: values[4] ?? 'x' });
  const jobId = String((reply as { data: { jobId: string } }).data.jobId);
  await eventually('completed', () => jobEventsOf(jobId).some((e) => e['state'] === 'completed'), 15_000);
  t.equal(box.agent.deps.config.get().printing.documentTypes['au']?.tray, 'main');
});

t.test('the printer password is stored apart from the configuration', async (t) => {
  const password = 'Dr.Drucker-Geheim-2024';
  const set = await cloud.command(box.boxId, 'printers.set-password', { printerId: 'empfang', password });
  t.match(set, { status: 'ok', data: { printerId: 'empfang', passwordSet: true } });
  const config = await cloud.command(box.boxId, 'config.get', {});
  t.equal(JSON.stringify(config).includes(password), false, 'config.get does not carry it');
  t.match(config, { status: 'ok', data: { printing: { printers: [{ id: 'empfang', username: 'praxis' }] } } });
  const file = path.join(box.dir, 'printing', 'secrets', 'empfang.password');
  t.equal(await fs.readFile(file, 'utf8'), password);
  t.equal(await modeOf(file), 0o600);
  const list = await cloud.command(box.boxId, 'printers.list', {});
  t.match(list, { data: { printers: [{ auth: { passwordSet: true } }] } });
  t.notOk(box.logText().includes(password), 'not logged');
});

t.test('no personal value in logs or error replies', async (t) => {
  const notPdf = await cloud.command(box.boxId, 'print', { docType: 'au', pdf: Buffer.from(values.join('\n')).toString('base64'), jobName: values[0] ?? 'x' });
  t.match(notPdf, { status: 'error', error: { code: 'InvalidInput', message: 'document is not a PDF (no %PDF- header)' } });
  const unmapped = await cloud.command(box.boxId, 'print', { docType: 'rezept', pdf: pdfWithPages(1).toString('base64'), jobName: values[1] ?? 'x' });
  t.match(unmapped, { status: 'error', error: { code: 'InvalidConfig' } });
  t.same(leakedValues(JSON.stringify([notPdf, unmapped]), values), []);
  t.same(leakedValues(box.logText(), values), [], 'the log holds none of the fixture values');
  t.same(leakedValues(JSON.stringify(view.events.filter((e) => e.type === 'print.job')), values), [], 'events carry no job name');
  t.ok(values.length > 10, `${values.length} personal values checked`);
});
