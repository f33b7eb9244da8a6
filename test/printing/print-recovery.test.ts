import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { patientData } from '../../agent/core/patient-data.js';
import { IppClient } from '../../agent/printing/ipp-client.js';
import { beforeSend } from '../../agent/printing/job-planner.js';
import { JobStore } from '../../agent/printing/job-store.js';
import type { PrintJobRecord } from '../../agent/printing/print-job.js';
import { startIppPrinter, type IppPrinter } from '../helpers/ipp-printer.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { pdfWithPages, sha256 } from '../helpers/test-pdf.js';
import { FAST_QUEUE, b64, startPrinting } from './print-harness.js';
import { startTcpProxy } from './tcp-proxy.js';

/**
 * Never lost, never twice: the printer going away and coming back (a fresh process on the same
 * address, job ids from 1 again), and every state a crash can leave a job record in — marked as
 * "being handed over" with or without the printer having it, or handed over with a job id.
 */

/** How often each marker reached a printer, over every printer instance of the test. */
async function printedMarkers(printers: IppPrinter[], counts = new Map<string, number>()): Promise<Map<string, number>> {
  for (const p of printers) {
    for (const name of await fs.readdir(p.jobsDir)) {
      if (!name.endsWith('.env')) continue;
      const env = await fs.readFile(path.join(p.jobsDir, name), 'utf8');
      const marker = /^IPP_JOB_NAME=(PBX-[0-9A-Z]{8})/m.exec(env)?.[1];
      if (marker) counts.set(marker, (counts.get(marker) ?? 0) + 1);
    }
  }
  return counts;
}

const markerOf = (jobId: string): string => `PBX-${jobId.slice(-8)}`;

t.test('printer stopped mid-queue and restarted: waiting jobs print once; the one it was printing is reported lost, not resent', async (t) => {
  const first = await startIppPrinter({ jobSeconds: 1, name: 'Drucker A' });
  t.teardown(() => first.stop());
  const proxy = await startTcpProxy(first.port);
  t.teardown(() => proxy.close());
  const q = await startPrinting({ printers: [{ id: 'a', uri: proxy.uri }], documentTypes: { other: { printer: 'a' } }, queue: FAST_QUEUE });
  t.teardown(() => q.stop());

  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push(String((await q.run('print', { docType: 'brief', pdf: b64(pdfWithPages(1, `Brief ${i}`)) }))['jobId']));
  await q.waitForJob(ids[0] ?? '', ['processing']);
  // The first job is on paper (the job script copied it) and still "printing": pull the plug.
  await first.capturedJob(1);
  await proxy.down();
  const printedByFirst = await printedMarkers([first]);
  await first.stop();
  await new Promise((r) => setTimeout(r, 600));
  t.match(q.module.status(), { jobs: { processing: 1, queued: 3 } }, 'nothing given up while the printer is away');

  const second = await startIppPrinter({ name: 'Drucker A' });
  t.teardown(() => second.stop());
  // Someone else's job takes id 1 on the restarted printer: the id our first job had.
  const foreign = new IppClient({ printer: { uri: second.uri } });
  t.teardown(() => foreign.close());
  const other = await foreign.printJob({ document: { path: await writeTemp(pdfWithPages(1)) }, jobName: patientData('fremder Auftrag') });
  t.equal(other.jobId, 1, 'the restarted printer counts from 1 again');
  proxy.target(second.port);
  await proxy.up();

  const ends = await Promise.all(ids.map((id) => q.waitForJob(id, undefined, 20_000)));
  t.match(ends[0], { state: 'failed', failure: 'lost', reason: /no longer knows job 1 .*may have printed/ }, 'the id names another job now: not ours, not resent');
  t.same(ends.slice(1).map((e) => e.state), ['completed', 'completed', 'completed']);
  const printed = await printedMarkers([second], printedByFirst);
  t.same(ids.map((id) => printed.get(markerOf(id))), [1, 1, 1, 1], 'every job reached paper exactly once');
});

t.test('crash windows: a record left "handing over" is looked up; one with a job id is followed', async (t) => {
  const printer = await startIppPrinter({ name: 'Drucker B' });
  t.teardown(() => printer.stop());
  const { dir, cleanup } = await tempDir('praxisbox-recovery-');
  t.teardown(cleanup);
  const store = new JobStore({ jobsDir: path.join(dir, 'printing', 'jobs'), spoolDir: path.join(dir, 'spool', 'print'), log: captureLog('error').log });
  await store.open();
  const now = Date.now();
  const make = async (id: string, doc: Buffer): Promise<PrintJobRecord> => {
    const { size, sha256: sum } = await store.writeSpool(id, doc);
    return { v: 1, id, marker: markerOf(id), docType: 'au', printerId: 'b', ticket: { copies: 1 }, size, sha256: sum, acceptedAt: now, deadlineAt: now + 60_000, state: 'queued', attempts: 0, nextAttemptAt: now, followErrors: 0 };
  };
  const client = new IppClient({ printer: { uri: printer.uri } });
  t.teardown(() => client.close());
  const docs = [pdfWithPages(1, 'eins'), pdfWithPages(1, 'zwei'), pdfWithPages(1, 'drei')];

  // 1: crashed after the printer took the job, before its id was stored.
  const taken = beforeSend(await make('01HZX3V8Q6W4K2M9N7P5R3T1AA', docs[0] ?? Buffer.alloc(0)), now);
  const takenAtPrinter = await client.printJob({ document: { path: store.spoolPath(taken.id) }, jobName: patientData(`${taken.marker} au`) });
  await store.create(taken);
  // ippeveprinter answers busy while a job prints: let it finish before the next direct job.
  await client.waitForJob(takenAtPrinter.jobId, { pollMs: 20 });
  // 2: crashed after the mark, before a byte reached the printer.
  await store.create(beforeSend(await make('01HZX3V8Q6W4K2M9N7P5R3T1BB', docs[1] ?? Buffer.alloc(0)), now));
  // 3: crashed while following a handed-over job.
  const followed = beforeSend(await make('01HZX3V8Q6W4K2M9N7P5R3T1CC', docs[2] ?? Buffer.alloc(0)), now);
  const submitted = await client.printJob({ document: { path: store.spoolPath(followed.id) }, jobName: patientData(`${followed.marker} au`) });
  const { handoff: _h, ...rest } = followed;
  await store.create({ ...rest, state: 'processing', printerJobId: submitted.jobId, handedOverAt: now });

  const q = await startPrinting({ printers: [{ id: 'b', uri: printer.uri }], documentTypes: {}, queue: FAST_QUEUE }, { dir });
  t.teardown(() => q.stop());
  const ends = await Promise.all(['01HZX3V8Q6W4K2M9N7P5R3T1AA', '01HZX3V8Q6W4K2M9N7P5R3T1BB', '01HZX3V8Q6W4K2M9N7P5R3T1CC'].map((id) => q.waitForJob(id)));
  t.same(ends.map((e) => e.state), ['completed', 'completed', 'completed']);
  t.same(ends.map((e) => e.attempts), [1, 2, 1], 'only the job the printer never had was sent again');
  const printed = await printedMarkers([printer]);
  t.same(['T1AA', 'T1BB', 'T1CC'].map((s) => printed.get(`PBX-P5R3${s}`)), [1, 1, 1], 'each exactly once');
  const envOf = async (marker: string): Promise<string> => {
    for (const name of (await fs.readdir(printer.jobsDir)).filter((n) => n.endsWith('.env'))) {
      const env = await fs.readFile(path.join(printer.jobsDir, name), 'utf8');
      if (env.includes(marker)) return name.replace('.env', '.pdf');
    }
    return '';
  };
  t.equal(sha256(await fs.readFile(path.join(printer.jobsDir, await envOf('PBX-P5R3T1BB')))), sha256(docs[1] ?? Buffer.alloc(0)), 'the resent document is the spooled one');
  t.equal((await fs.readdir(path.join(dir, 'spool', 'print'))).length, 0, 'spool empty');
});

t.test('a record that cannot be read is kept aside, never deleted; orphaned spool files are removed', async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-recovery-');
  t.teardown(cleanup);
  const jobsDir = path.join(dir, 'jobs');
  const spoolDir = path.join(dir, 'spool');
  await fs.mkdir(jobsDir, { recursive: true });
  await fs.mkdir(spoolDir, { recursive: true });
  await fs.writeFile(path.join(jobsDir, '01HZX3V8Q6W4K2M9N7P5R3T1DD.json'), '{"v":1,"id":');
  await fs.writeFile(path.join(spoolDir, '01HZX3V8Q6W4K2M9N7P5R3T1EE.pdf'), 'orphan');
  await fs.writeFile(path.join(spoolDir, '01HZX3V8Q6W4K2M9N7P5R3T1FF.pdf.part'), 'torn');
  const { log, text } = captureLog('error');
  const store = new JobStore({ jobsDir, spoolDir, log });
  await store.open();
  t.same(store.all(), []);
  t.same((await fs.readdir(jobsDir)).sort(), ['01HZX3V8Q6W4K2M9N7P5R3T1DD.json.unreadable']);
  t.same(await fs.readdir(spoolDir), []);
  t.match(text(), /print job record is unreadable; kept aside/);
});

async function writeTemp(data: Buffer): Promise<string> {
  const { dir } = await tempDir('praxisbox-doc-');
  const file = path.join(dir, 'doc.pdf');
  await fs.writeFile(file, data);
  t.teardown(() => fs.rm(dir, { recursive: true, force: true }));
  return file;
}
