import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ErrorCode, PraxisboxError } from '../../agent/core/errors.js';
import { parseGdt, viewRecord, writeGdt } from '../../agent/gdt/codec/index.js';
import type { AppendOptions, Outbox } from '../../agent/outbox/outbox-event.js';
import { startGdt, until, resultBytes, resultRecord, fakePdf, dropFile, FAST, PATIENT } from './gdt-harness.js';

interface ResultData {
  deviceId: string;
  importId: string;
  orderId?: string;
  file: string;
  archiveFile: string;
  reimport: boolean;
  results: Array<{ orderId?: string; patient: { number?: string; surname?: string } }>;
  attachments: Array<{ size?: number; sha256?: string; type: string; file: { name?: string; content?: string }; problem?: { code: string } }>;
  warnings: Array<{ code: string; message: string }>;
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const ekg = (extra: Record<string, unknown> = {}) => ({ ...FAST, devices: [{ id: 'ekg1', testCodes: ['EKG01'], pathMappings: [{ devicePrefix: 'C:\\GDT\\', localDir: 'ekg1' }], ...extra }] });
const list = async (dir: string): Promise<string[]> => (await fs.readdir(dir)).sort();

t.test('a result with its PDF: one event, PDF byte-identical, both archived only after the event', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const pdf = fakePdf(300_000);
  await fs.writeFile(path.join(dir, 'befund 1.pdf'), pdf);
  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes({ attachments: ['C:\\GDT\\befund 1.pdf'] }));
  await until('gdt.result', async () => (await h.events('gdt.result')).length === 1);
  const data = (await h.events('gdt.result'))[0]!.data as ResultData;
  t.match(data, { deviceId: 'ekg1', file: 'PRAXDEVI.GDT', reimport: false, warnings: [] });
  t.equal(data.attachments.length, 1);
  const att = data.attachments[0]!;
  t.match(att, { type: 'application/pdf', size: pdf.length, sha256: sha(pdf), file: { name: 'befund 1.pdf' } });
  t.ok(Buffer.from(att.file.content ?? '', 'base64').equals(pdf), 'PDF byte-identical');
  await until('archived', async () => (await list(dir)).length === 2);
  t.same(await list(dir), ['archive', 'quarantine'], 'result folder empty');
  const archived = await list(path.join(dir, 'archive'));
  t.same(archived, [data.archiveFile, data.archiveFile.replace(/-PRAXDEVI\.GDT$/, '-a1-befund 1.pdf')]);
  t.ok((await fs.readFile(path.join(dir, 'archive', archived[1]!))).equals(pdf));

  // The same bytes again (a device resending, someone copying back): no second event.
  await dropFile(dir, 'PRAXDEVI.GDT', await fs.readFile(path.join(dir, 'archive', data.archiveFile)));
  await until('duplicate archived', async () => (await list(dir)).length === 2 && (await list(path.join(dir, 'archive'))).length === 3);
  t.equal((await h.events('gdt.result')).length, 1, 'no second event for the same content');
  t.ok((await list(path.join(dir, 'archive'))).some((n) => n.endsWith('-dup-PRAXDEVI.GDT')));
  t.notOk(/Prüfmann|Jürgen|4711|befund 1/.test(h.logText()), 'no patient data or attachment name in the log');
});

t.test('orders out, results matched back, 6300 answered with the current order\'s patient', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  t.same(await h.run('gdt.order', { deviceId: 'ekg1', orderId: 'ord-1', test: 'EKG01', patient: PATIENT }), { deviceId: 'ekg1', orderId: 'ord-1', status: 'written' });
  const order = parseGdt(await fs.readFile(path.join(dir, 'DEVIPRAX.GDT')), { strict: true });
  t.match(viewRecord(order.records[0]!), { kind: 'order', patient: { number: '4711', surname: 'Prüfmann', birthDate: '01021960', sex: 'male' }, examination: { testCode: 'EKG01' } });
  t.same(await h.run('gdt.order', { deviceId: 'ekg1', orderId: 'ord-2', test: 'EKG01', patient: { number: '99' } }), {
    deviceId: 'ekg1',
    orderId: 'ord-2',
    status: 'queued',
    waiting: 'previous-unconsumed',
  });
  await t.rejects(h.run('gdt.order', { deviceId: 'ekg1', orderId: 'ord-3', test: 'LUFU01', patient: PATIENT }), { code: 'InvalidInput', message: /test code "LUFU01" is not offered by device ekg1/ });
  await t.rejects(h.run('gdt.order', { deviceId: 'nope', orderId: 'x', test: 'EKG01', patient: PATIENT }), { code: 'NotFound' });

  // The device takes the order (deletes the file); the waiting order follows by itself.
  await fs.unlink(path.join(dir, 'DEVIPRAX.GDT'));
  await until('second order written', async () => (await list(dir)).includes('DEVIPRAX.GDT'));
  t.equal(viewRecord(parseGdt(await fs.readFile(path.join(dir, 'DEVIPRAX.GDT'))).records[0]!).patient.number, '99');
  await fs.unlink(path.join(dir, 'DEVIPRAX.GDT'));

  // A master data request: answered with 6301 for the patient it names (ord-1's).
  const request = writeGdt([{ fields: [{ id: '8000', value: '6300' }, { id: '8315', value: 'PRAXBOX' }, { id: '9218', value: '02.10' }, { id: '3000', value: '4711' }] }]);
  await dropFile(dir, 'PRAXDEVI.GDT', request);
  await until('6301 written', async () => (await list(dir)).includes('DEVIPRAX.GDT'));
  const answer = viewRecord(parseGdt(await fs.readFile(path.join(dir, 'DEVIPRAX.GDT'))).records[0]!);
  t.match(answer, { kind: 'master-data', patient: { number: '4711', surname: 'Prüfmann', firstName: 'Jürgen' } });
  t.equal((await h.events()).length, 0, 'a 6300 makes no event');
  await until('6300 archived', async () => !(await list(dir)).includes('PRAXDEVI.GDT'));

  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes({ patient: '4711' }));
  await until('result', async () => (await h.events('gdt.result')).length === 1);
  const data = (await h.events('gdt.result'))[0]!.data as ResultData;
  await until('result archived', async () => !(await list(dir)).includes('PRAXDEVI.GDT'));
  t.equal(data.orderId, 'ord-1', 'matched by patient and test');
  t.equal(data.results[0]?.orderId, 'ord-1');
  const devices = (await h.run('gdt.devices.list', {})) as { devices: Array<Record<string, unknown>> };
  t.match(devices.devices[0], { id: 'ekg1', state: 'ok', watchMode: 'inotify', results: { imported: 1, answered: 1, rejected: 0 }, orders: { openOrders: 1, currentOrder: { orderId: 'ord-2' } } });
  t.same(await h.run('gdt.cancel', { deviceId: 'ekg1', orderId: 'ord-2' }), { deviceId: 'ekg1', orderId: 'ord-2', status: 'cancel-queued', waiting: 'previous-unconsumed' });
  await fs.unlink(path.join(dir, 'DEVIPRAX.GDT'));
  await until('6303 written', async () => (await list(dir)).includes('DEVIPRAX.GDT'));
  t.equal(parseGdt(await fs.readFile(path.join(dir, 'DEVIPRAX.GDT'))).records[0]!.fields[0]!.value, '6303');
});

t.test('rejected files: quarantine with a reason, a gdt.rejected event, no patient data in either', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const order = writeGdt([{ fields: [{ id: '8000', value: '6302' }, { id: '3000', value: '4711' }, { id: '3101', value: 'Prüfmann' }] }]);
  await dropFile(dir, 'WRONGDIR.GDT', order);
  await dropFile(dir, 'GARBAGE.001', Buffer.from('Prüfmann Jürgen 4711\r\nnot gdt at all\r\n', 'latin1'));
  await until('two rejections', async () => (await h.events('gdt.rejected')).length === 2 && (await list(path.join(dir, 'quarantine'))).length === 4, 5_000);
  const events = (await h.events('gdt.rejected')).map((e) => e.data as { file: string; code: string; reason: string; quarantineFile: string });
  const byFile = new Map(events.map((e) => [e.file, e]));
  t.match(byFile.get('WRONGDIR.GDT'), { code: 'not-a-result', reason: 'record type 6302 is not something a device sends to the practice (expected 6310, 6311 or 6300)' });
  t.match(byFile.get('GARBAGE.001'), { code: 'not-gdt', reason: 'line 1 is not a GDT field (needs a 3-digit length and a 4-digit field id)' });
  const q = await list(path.join(dir, 'quarantine'));
  t.equal(q.length, 4, 'two files, two reasons');
  const reason = await fs.readFile(path.join(dir, 'quarantine', `${byFile.get('GARBAGE.001')!.quarantineFile}.reason.txt`), 'utf8');
  t.match(reason, /^file: GARBAGE\.001\ndevice: ekg1\nsize: \d+ bytes\ncode: not-gdt\nreason: line 1 is not a GDT field/);
  t.notOk(/Prüfmann|Jürgen|4711/.test(reason + JSON.stringify(events) + h.logText()), 'reason, event and log free of patient data');
  t.same(await list(dir), ['archive', 'quarantine']);
});

t.test('a cut-off file waits incompleteWaitMs, then goes in with its warnings', async (t) => {
  const h = await startGdt({ config: ekg({}) });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const whole = resultBytes();
  const text = whole.toString('latin1');
  const cut = whole.subarray(0, text.indexOf('011842072')); // ends at a line break, two lines short
  t.equal(cut.length, whole.length - 24);
  await dropFile(dir, 'PRAXDEVI.GDT', cut);
  await new Promise((r) => setTimeout(r, FAST.incompleteWaitMs / 2));
  t.equal((await h.events()).length, 0, 'not taken while it looks cut off');
  await until('imported after the wait', async () => (await h.events('gdt.result')).length === 1);
  const data = (await h.events('gdt.result'))[0]!.data as ResultData;
  t.ok(data.warnings.some((w) => w.code === 'record-size'), 'the 8100 mismatch is a warning');
});

t.test('the outbox refuses (full): the file stays and goes in once there is room', async (t) => {
  let refuse = 3;
  let attempts = 0;
  const h = await startGdt({
    config: ekg(),
    wrapOutbox: (inner: Outbox): Outbox =>
      new Proxy(inner, {
        get(target, prop) {
          if (prop === 'append') {
            return async (type: string, data: unknown, options?: AppendOptions) => {
              attempts += 1;
              if (refuse-- > 0) throw new PraxisboxError(ErrorCode.OutboxFull, 'outbox full (test)');
              return target.append(type, data, options);
            };
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      }),
  });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  await fs.writeFile(path.join(dir, 'r.pdf'), fakePdf(1000));
  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes({ attachments: ['C:\\GDT\\r.pdf'] }));
  await until('first refusal', () => h.module.healthcheck().level === 'degraded');
  t.same(await list(dir), ['PRAXDEVI.GDT', 'archive', 'quarantine', 'r.pdf'], 'nothing moved while refused');
  const health = h.module.healthcheck();
  t.match(health, { level: 'degraded', reason: 'GDT results wait for room in the outbox' });
  await until('imported after the refusals', async () => (await h.events('gdt.result')).length === 1, 15_000);
  t.equal(attempts, 4);
  await until('archived', async () => (await list(dir)).length === 2);
  t.match(h.module.healthcheck(), { level: 'ok' });
  t.match(h.logText(), /GDT file waits: OutboxFull/);
});

t.test('a device whose share is missing is reported; the other device keeps working; it recovers', async (t) => {
  const h = await startGdt({ config: { ...FAST, devices: [{ id: 'ekg1' }, { id: 'lufu', orderDir: '/nonexistent-share/lufu', resultDir: '/nonexistent-share/lufu' }] } });
  t.teardown(h.stop);
  const devices = ((await h.run('gdt.devices.list', {})) as { devices: Array<Record<string, unknown>> }).devices;
  t.match(devices.find((d) => d.id === 'lufu'), { state: 'unavailable', reason: 'order folder /nonexistent-share/lufu does not exist (is the share mounted?)' });
  t.match(devices.find((d) => d.id === 'ekg1'), { state: 'ok' });
  t.match(h.module.healthcheck(), { level: 'degraded', reason: 'device lufu: order folder /nonexistent-share/lufu does not exist (is the share mounted?)' });
  t.match(await h.run('gdt.order', { deviceId: 'lufu', orderId: 'l1', test: 'LUFU01', patient: PATIENT }), { status: 'queued', waiting: 'device-unavailable' }, 'orders wait durably');
  await dropFile(path.join(h.root, 'ekg1'), 'PRAXDEVI.GDT', resultBytes());
  await until('ekg1 imports', async () => (await h.events('gdt.result')).length === 1);

  // The share appears (here: the configuration moves the device to a folder that exists).
  const share = path.join(h.root, '..', 'share');
  await fs.mkdir(share);
  await h.restart({ ...FAST, devices: [{ id: 'ekg1' }, { id: 'lufu', orderDir: share, resultDir: share }] });
  await until('queued order written', async () => (await list(share)).includes('DEVIPRAX.GDT'));
  t.match(h.module.healthcheck(), { level: 'ok' });
});

t.test('a folder that comes back is picked up by the retry without a restart', async (t) => {
  const share = path.join((await fs.realpath('/tmp')), `praxisbox-share-${process.pid}-${Date.now()}`);
  t.teardown(() => fs.rm(share, { recursive: true, force: true }));
  const h = await startGdt({ config: { ...FAST, devices: [{ id: 'bdm', orderDir: share, resultDir: share }] }, deviceRetryMs: 100 });
  t.teardown(h.stop);
  t.match(h.module.healthcheck(), { level: 'degraded' });
  await fs.mkdir(share);
  await until('device available', () => h.module.healthcheck().level === 'ok', 5_000);
  await dropFile(share, 'PRAXBDM.GDT', resultBytes());
  await until('imported', async () => (await h.events('gdt.result')).length === 1);
});

t.test('6305 attacks: traversal, symlink escape, unmapped paths — findings go in, nothing outside is read or moved', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const secret = path.join(h.root, '..', 'secret.txt');
  await fs.writeFile(secret, 'TOP-SECRET');
  await fs.symlink(secret, path.join(dir, 'innocent.pdf'));
  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes({ attachments: ['C:\\GDT\\..\\secret.txt', 'C:\\GDT\\innocent.pdf', 'D:\\other\\x.pdf', 'C:\\GDT\\PRAXDEVI.GDT', '/etc/passwd'] }));
  await until('result', async () => (await h.events('gdt.result')).length === 1);
  const data = (await h.events('gdt.result'))[0]!.data as ResultData;
  t.same(data.attachments.map((a) => a.problem?.code), ['attachment-refused', 'attachment-refused', 'attachment-unmapped', 'attachment-refused', 'attachment-refused']);
  t.ok(data.attachments.every((a) => a.file.content === undefined), 'no content sent');
  t.same(data.warnings.map((w) => w.message), [
    'attachment 1: the attachment path climbs out of its folder (..)',
    'attachment 2: the referenced attachment resolves outside the device folders (symlink)',
    'attachment 3: the attachment path matches no configured path mapping',
    'attachment 4: the attachment path points at a GDT file or into archive/ or quarantine/',
    'attachment 5: the attachment path is outside the device folders',
  ]);
  t.notOk(JSON.stringify(await h.events()).includes('TOP-SECRET'));
  t.equal(await fs.readFile(secret, 'utf8'), 'TOP-SECRET', 'the target stays where it is');
  t.ok((await fs.lstat(path.join(dir, 'innocent.pdf'))).isSymbolicLink(), 'a refused attachment is not archived');
});

t.test('attachments: a late PDF is waited for; a lost one gives up after attachmentWaitMs; a huge one is listed, not sent', async (t) => {
  const h = await startGdt({ config: ekg(), outboxMaxBytes: 64 * 1024 * 1024 });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  await dropFile(dir, 'LATE.GDT', resultBytes({ patient: '1', attachments: ['C:\\GDT\\late.pdf'] }));
  await new Promise((r) => setTimeout(r, 300));
  t.equal((await h.events()).length, 0, 'waits for the PDF');
  const late = fakePdf(2000);
  await fs.writeFile(path.join(dir, 'late.pdf'), late);
  await until('late PDF imported', async () => (await h.events('gdt.result')).length === 1);
  const first = (await h.events('gdt.result'))[0]!.data as ResultData;
  t.ok(Buffer.from(first.attachments[0]?.file.content ?? '', 'base64').equals(late));

  await dropFile(dir, 'LOST.GDT', resultBytes({ patient: '2', attachments: ['C:\\GDT\\lost.pdf'] }));
  await until('imported without it', async () => (await h.events('gdt.result')).length === 2, 5_000);
  const second = (await h.events('gdt.result'))[1]!.data as ResultData;
  t.match(second.warnings, [{ code: 'attachment-missing', message: 'attachment 1: the referenced attachment does not exist (yet); gave up after 800 ms' }]);

  await fs.writeFile(path.join(dir, 'huge.pdf'), Buffer.alloc(21 * 1024 * 1024));
  await dropFile(dir, 'HUGE.GDT', resultBytes({ patient: '3', attachments: ['C:\\GDT\\huge.pdf'] }));
  await until('imported with the size only', async () => (await h.events('gdt.result')).length === 3, 5_000);
  const third = (await h.events('gdt.result'))[2]!.data as ResultData;
  t.match(third.attachments[0], { size: 21 * 1024 * 1024, problem: { code: 'attachment-too-large' } });
  t.equal(third.attachments[0]?.file.content, undefined);
});

t.test('a 50 MB junk file is quarantined unread; files after it still go in', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const junk = path.join(dir, '.junk.part');
  const fh = await fs.open(junk, 'w');
  const block = Buffer.alloc(1024 * 1024, 0x41);
  for (let i = 0; i < 50; i++) await fh.write(block);
  await fh.close();
  const rssBefore = process.memoryUsage().rss;
  await fs.rename(junk, path.join(dir, 'JUNK.GDT'));
  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes());
  await until('junk rejected and result imported', async () => (await h.events('gdt.rejected')).length === 1 && (await h.events('gdt.result')).length === 1, 10_000);
  t.match((await h.events('gdt.rejected'))[0]!.data, { file: 'JUNK.GDT', code: 'too-large', size: 50 * 1024 * 1024, reason: 'the file is 52428800 bytes; the limit is 8388608' });
  t.ok(process.memoryUsage().rss - rssBefore < 40 * 1024 * 1024, 'not read into memory');
  t.ok((await list(path.join(dir, 'quarantine'))).some((n) => n.endsWith('-JUNK.GDT')));
});

t.test('gdt.reimport puts an archived file and its PDF back: a new event, flagged', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const pdf = fakePdf(4000);
  await fs.writeFile(path.join(dir, 'r.pdf'), pdf);
  await dropFile(dir, 'PRAXDEVI.GDT', resultBytes({ attachments: ['C:\\GDT\\r.pdf'] }));
  await until('imported', async () => (await h.events('gdt.result')).length === 1 && (await list(dir)).length === 2);
  const first = (await h.events('gdt.result'))[0]!.data as ResultData;
  await t.rejects(h.run('gdt.reimport', { archiveFile: '../../etc/passwd' }), { code: 'InvalidInput' });
  await t.rejects(h.run('gdt.reimport', { archiveFile: 'nothing.GDT' }), { code: 'NotFound' });
  t.same(await h.run('gdt.reimport', { archiveFile: first.archiveFile }), { deviceId: 'ekg1', from: 'archive', file: first.archiveFile, attachments: 1 });
  await until('imported again', async () => (await h.events('gdt.result')).length === 2);
  const second = (await h.events('gdt.result'))[1]!.data as ResultData;
  t.match(second, { reimport: true, file: first.archiveFile, importId: first.importId });
  t.ok(Buffer.from(second.attachments[0]?.file.content ?? '', 'base64').equals(pdf), 'the PDF came back too');

  // Quarantine works the same way (e.g. after the cause was fixed).
  await dropFile(dir, 'BAD.GDT', writeGdt([{ fields: [{ id: '8000', value: '6301' }, { id: '3000', value: '1' }] }]));
  await until('rejected', async () => (await h.events('gdt.rejected')).length === 1);
  const q = ((await h.events('gdt.rejected'))[0]!.data as { quarantineFile: string }).quarantineFile;
  await until('in quarantine', async () => (await list(path.join(dir, 'quarantine'))).includes(q));
  t.match(await h.run('gdt.reimport', { archiveFile: q, deviceId: 'ekg1' }), { from: 'quarantine', file: q });
  await until('rejected again', async () => (await h.events('gdt.rejected')).length === 2);
});

t.test('retention: archive and quarantine entries past their days are deleted at start', async (t) => {
  const h = await startGdt({ config: ekg({}) });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const old = '20000101T000000Z-aaaaaaaaaaaa-OLD.GDT';
  const recent = `${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-bbbbbbbbbbbb-NEW.GDT`;
  for (const sub of ['archive', 'quarantine']) {
    await fs.writeFile(path.join(dir, sub, old), 'x');
    await fs.writeFile(path.join(dir, sub, recent), 'x');
    await fs.writeFile(path.join(dir, sub, 'hand-made.txt'), 'x');
  }
  await h.restart();
  await until('swept', async () => !(await list(path.join(dir, 'archive'))).includes(old));
  t.same(await list(path.join(dir, 'archive')), [recent, 'hand-made.txt'].sort());
  await until('quarantine swept', async () => !(await list(path.join(dir, 'quarantine'))).includes(old));
  t.same(await list(path.join(dir, 'quarantine')), [recent, 'hand-made.txt'].sort());
});

t.test('two records in one file (two patients) are one event with two results', async (t) => {
  const h = await startGdt({ config: ekg() });
  t.teardown(h.stop);
  await dropFile(path.join(h.root, 'ekg1'), 'TWO.GDT', writeGdt([resultRecord({ patient: '1' }), resultRecord({ patient: '2' })], { charset: 'iso-8859-1' }));
  await until('result', async () => (await h.events('gdt.result')).length === 1);
  const data = (await h.events('gdt.result'))[0]!.data as ResultData;
  t.same(data.results.map((r) => r.patient.number), ['1', '2']);
});

t.test('gdt.config.check judges a proposed section without saving or creating anything; disabled devices are listed', async (t) => {
  const h = await startGdt({ config: { ...FAST, devices: [{ id: 'ekg1' }, { id: 'old', enabled: false }] } });
  t.teardown(h.stop);
  const devices = ((await h.run('gdt.devices.list', {})) as { devices: Array<Record<string, unknown>> }).devices;
  t.same(devices.map((d) => [d.id, d.state]), [['ekg1', 'ok'], ['old', 'disabled']]);
  const good = await h.run('gdt.config.check', { gdt: { devices: [{ id: 'ekg1' }, { id: 'neu' }] } });
  t.same(good, {
    valid: true,
    problems: [],
    devices: [
      { id: 'ekg1', problems: [], notes: [] },
      { id: 'neu', problems: [], notes: [`order folder ${path.join(h.root, 'neu')} will be created`] },
    ],
  });
  await t.rejects(fs.stat(path.join(h.root, 'neu')), { code: 'ENOENT' }, 'nothing created by a check');
  const bad = await h.run('gdt.config.check', { gdt: { devices: [{ id: 'a', resultDir: '/nonexistent-share/x', orderDir: '/nonexistent-share/x', deviceGdtId: 'TOO_LONG_ID' }] } });
  t.same(bad, {
    valid: false,
    problems: ['/devices/0/deviceGdtId: Expected string length less or equal to 8', "/devices/0/deviceGdtId: Expected string to match '^[\\x21-\\x7e]{1,8}$'"],
    devices: [],
  });
  const folders = await h.run('gdt.config.check', { gdt: { devices: [{ id: 'a', resultDir: '/nonexistent-share/x', orderDir: '/nonexistent-share/x' }, { id: 'a' }] } });
  t.same(folders, {
    valid: false,
    problems: ['/devices/1/id: same id as /devices/0'],
    devices: [
      { id: 'a', problems: ['order folder /nonexistent-share/x does not exist (is the share mounted?)'], notes: [] },
      { id: 'a', problems: [], notes: [`order folder ${path.join(h.root, 'a')} will be created`] },
    ],
  });
});
