import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import { parseGdt, viewRecord } from '../../agent/gdt/codec/index.js';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { fixture } from '../helpers/fixtures.js';
import { fixturePatientValues, leakedValues } from '../helpers/patient-values.js';
import { pdfWithPages, sha256, writeLargePdf } from '../helpers/test-pdf.js';

/**
 * Every shared GDT sample, dropped into a device's result folder of a whole agent, reaches the
 * cloud simulator: results (6310/6311) as `gdt.result` with a PDF attached (byte-identical after
 * the cloud link chunked the large one), the rest (master data, orders — not what devices send)
 * as `gdt.rejected`. No personal value of any sample appears in the log or in an error reply.
 */
interface Expected {
  file: string;
  kind: 'result' | 'rejected';
  charset?: string;
  patients?: string[];
  tests?: number;
}

const SAMPLES: Expected[] = [
  { file: 'levinalex-xdt_gdt2_1-2.txt', kind: 'result', charset: 'cp437', patients: ['02345'], tests: 2 },
  { file: 'dcmtogdt_example-output.gdt', kind: 'result', charset: 'iso-8859-1', patients: ['12345'], tests: 1 },
  { file: 'crescnet-perl-xdt-parser_example1.gdt', kind: 'result', charset: 'iso-8859-1', patients: ['2'], tests: 1 },
  { file: 'crescnet-perl-xdt-parser_example2.gdt', kind: 'result', charset: 'utf-8', patients: ['2', '1'], tests: 4 },
  { file: 'levinalex-xdt_gdt2_1-1.txt', kind: 'rejected' },
  { file: 'levinalex-xdt_BARCQPCN.001', kind: 'rejected' },
  { file: 'levinalex-xdt_example1.gdt.txt', kind: 'rejected' },
  { file: 'levinalex-xdt_example2.latin1.gdt.txt', kind: 'rejected' },
  { file: 'levinalex-xdt_example3.gdt.txt', kind: 'rejected' },
];

interface ResultData {
  file: string;
  charset: string;
  orderId?: string;
  results: Array<{ recordType: string; patient: { number?: string }; tests: unknown[] }>;
  attachments: Array<{ type: string; size: number; sha256: string; file: { name: string; content: string } }>;
}

/** The sample's bytes plus a 6303/6304/6305 attachment reference, in the sample's own line ending (the sample stays a byte-exact prefix). */
function withAttachment(bytes: Buffer, pdfName: string): Buffer {
  const text = bytes.toString('latin1');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const line = (id: string, value: string): string => `${String(value.length + 9).padStart(3, '0')}${id}${value}${eol}`;
  const sep = /[\r\n]$/.test(text) ? '' : eol;
  return Buffer.concat([bytes, Buffer.from(sep + line('6303', 'PDF') + line('6304', 'Befund') + line('6305', `C:\\GDT\\${pdfName}`), 'latin1')]);
}

t.test('every sample file through a whole agent to the cloud simulator', async (t) => {
  const box = await startTestAgent({}, {
    config: {
      gdt: {
        stableMs: 80,
        pollIntervalMs: 200,
        incompleteWaitMs: 400,
        attachmentWaitMs: 2_000,
        devices: [{ id: 'ekg1', name: 'EKG Raum 2', testCodes: ['EKG01'], pathMappings: [{ devicePrefix: 'C:\\GDT\\', localDir: 'ekg1' }] }],
      },
    },
  });
  t.teardown(box.stop);
  const url = `mqtt://127.0.0.1:${String(box.agent.localBroker.status()['port'])}`;
  await eventually('cloud link connected', () => box.agent.cloud.status()['link'] === 'connected');
  const cloud = await CloudSim.connect({ url });
  t.teardown(() => cloud.close());
  const view = cloud.box(box.boxId);
  const folder = path.join(box.dir, 'gdt', 'ekg1');
  await eventually('device folder created', async () => (await fs.readdir(folder).catch((): string[] => [])).includes('archive'));

  const pdfs = new Map<string, Buffer>();
  for (const [i, sample] of SAMPLES.entries()) {
    const bytes = await fs.readFile(fixture('gdt-public', sample.file));
    const name = `S${String(i).padStart(2, '0')}.GDT`;
    if (sample.kind === 'result') {
      const pdfName = `befund-${i}.pdf`;
      if (i === 0) await writeLargePdf(path.join(folder, pdfName), 700 * 1024); // over the 256 KiB message limit: chunked
      else await fs.writeFile(path.join(folder, pdfName), pdfWithPages(1 + i, `Befund ${i}`));
      pdfs.set(name, await fs.readFile(path.join(folder, pdfName)));
      await fs.writeFile(path.join(folder, `.${name}`), withAttachment(bytes, pdfName));
    } else {
      await fs.writeFile(path.join(folder, `.${name}`), bytes);
    }
    await fs.rename(path.join(folder, `.${name}`), path.join(folder, name));
  }

  const results = SAMPLES.filter((s) => s.kind === 'result').length;
  const rejected = SAMPLES.length - results;
  await eventually(
    'all events at the cloud',
    () => view.events.filter((e) => e.type === 'gdt.result').length === results && view.events.filter((e) => e.type === 'gdt.rejected').length === rejected,
    30_000,
  );
  t.same(cloud.chunkFailures, []);
  for (const [i, sample] of SAMPLES.entries()) {
    const name = `S${String(i).padStart(2, '0')}.GDT`;
    if (sample.kind === 'rejected') {
      const ev = view.events.find((e) => e.type === 'gdt.rejected' && (e.data as { file: string }).file === name);
      t.match(ev?.data, { deviceId: 'ekg1', code: 'not-a-result' }, `${sample.file}: rejected`);
      continue;
    }
    const ev = view.events.find((e) => e.type === 'gdt.result' && (e.data as ResultData).file === name);
    const data = ev?.data as ResultData | undefined;
    if (data === undefined) {
      t.fail(`${sample.file}: no gdt.result`);
      continue;
    }
    t.equal(data.charset, sample.charset, `${sample.file}: charset`);
    t.same(data.results.map((r) => r.patient.number), sample.patients, `${sample.file}: patients`);
    t.equal(data.results.reduce((n, r) => n + r.tests.length, 0), sample.tests, `${sample.file}: tests`);
    const pdf = pdfs.get(name) as Buffer;
    t.equal(data.attachments.length, 1);
    t.match(data.attachments[0], { type: 'application/pdf', size: pdf.length, sha256: sha256(pdf) });
    t.ok(Buffer.from(data.attachments[0]?.file.content ?? '', 'base64').equals(pdf), `${sample.file}: PDF byte-identical`);
  }
  await eventually('folder emptied', async () => (await fs.readdir(folder)).sort().join() === 'archive,quarantine');
  t.equal((await fs.readdir(path.join(folder, 'archive'))).length, results * 2, 'each result with its PDF in archive/');
  t.equal((await fs.readdir(path.join(folder, 'quarantine'))).length, rejected * 2, 'each rejected file with its reason');

  await t.test('orders through the cloud: written; errors without patient data', async (t) => {
    const gdt21 = viewRecord(parseGdt(await fs.readFile(fixture('gdt-public', 'levinalex-xdt_gdt2_1-1.txt'))).records[0]!).patient;
    const patient = { number: gdt21.number ?? '', surname: gdt21.surname, firstName: gdt21.firstName, birthDate: gdt21.birthDateIso, sex: 'male' };
    const reply = await cloud.command(box.boxId, 'gdt.order', { deviceId: 'ekg1', orderId: 'c-1', test: 'EKG01', patient });
    t.match(reply, { status: 'ok', data: { deviceId: 'ekg1', orderId: 'c-1', status: 'written' } });
    const order = viewRecord(parseGdt(await fs.readFile(path.join(folder, 'DEVIPRAX.GDT'))).records[0]!);
    t.match(order, { kind: 'order', patient: { number: '02345', surname: 'Mustermann', firstName: 'Franz', birthDate: '01101945' } });
    const bad = await cloud.command(box.boxId, 'gdt.order', { deviceId: 'ekg1', orderId: 'c-2', test: 'LUFU01', patient: { ...patient, surname: 'Mustermann' } });
    t.match(bad, { status: 'error', error: { code: 'InvalidInput' } });
    const invalid = await cloud.command(box.boxId, 'gdt.order', { deviceId: 'ekg1', orderId: 'c-3', test: 'EKG01', patient: { ...patient, birthDate: 'Franz Mustermann' } });
    t.match(invalid, { status: 'error', error: { code: 'InvalidInput' } });
    const list = await cloud.command(box.boxId, 'gdt.devices.list', {});
    t.match(list, { status: 'ok', data: { devices: [{ id: 'ekg1', name: 'EKG Raum 2', state: 'ok', results: { imported: results, rejected } }] } });
    t.same(leakedValues(JSON.stringify([bad, invalid, list]), fixturePatientValues()), [], 'no personal value in replies');
    await fs.unlink(path.join(folder, 'DEVIPRAX.GDT'));
  });

  t.same(leakedValues(box.logText(), fixturePatientValues()), [], 'no personal value of any sample in the log');
  t.ok(box.logText().includes('GDT result from device ekg1 imported'), 'the log did record the imports');
});
