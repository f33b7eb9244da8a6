import t, { type Test } from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { OrderQueue } from '../../agent/gdt/order-queue.js';
import { deviceLayout } from '../../agent/gdt/device-layout.js';
import { gdtConfig, type GdtDeviceConfig } from '../../agent/gdt/gdt-config.js';
import { parseGdt, viewRecord } from '../../agent/gdt/codec/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';

const patient = (n: string) => ({ number: n, surname: 'Prüfmann', firstName: 'Jörg', birthDate: '1960-02-01' });

async function setup(t: Test, naming: 'fixed' | 'incrementing' = 'fixed') {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const device: GdtDeviceConfig = gdtConfig({ devices: [{ id: 'ekg1', fileNaming: naming, deviceGdtId: 'EKG_TYP1', ownGdtId: 'PRAX_EDV' }] }).devices[0]!;
  const layout = deviceLayout(device, dir);
  await fs.mkdir(layout.orderDir, { recursive: true });
  const file = path.join(dir, 'state', 'ekg1.orders.json');
  let now = 1_000;
  const open = () => OrderQueue.open({ file, layout, device, now: () => (now += 10), log: captureLog().log });
  return { dir, layout, file, open, files: async () => (await fs.readdir(layout.orderDir)).sort() };
}

const patientNumberOf = async (file: string): Promise<string | undefined> => viewRecord(parseGdt(await fs.readFile(file)).records[0]!).patient.number;

t.test('fixed name: the second order waits until the device consumed the first, durably', async (t) => {
  const s = await setup(t);
  const q = await s.open();
  t.same(await q.enqueueOrder({ orderId: 'o1', testCode: 'EKG01', patient: patient('1') }), { status: 'queued' });
  t.same(await q.pump(), { written: ['EKGTPRAX.GDT'] });
  const first = await fs.readFile(path.join(s.layout.orderDir, 'EKGTPRAX.GDT'));
  t.same(await q.enqueueOrder({ orderId: 'o2', testCode: 'EKG01', patient: patient('2') }), { status: 'queued' });
  t.same(await q.pump(), { written: [], waiting: 'previous-unconsumed' });
  t.same(await q.pump(), { written: [], waiting: 'previous-unconsumed' }, 'still waiting, however often asked');
  t.ok((await fs.readFile(path.join(s.layout.orderDir, 'EKGTPRAX.GDT'))).equals(first), 'the unconsumed file was not touched');
  t.same(await s.files(), ['EKGTPRAX.GDT'], 'no temp file left behind');
  t.equal(q.waiting, 'previous-unconsumed');

  const reopened = await s.open();
  t.equal(reopened.queued, 1, 'the waiting order survived a restart');
  t.same(reopened.openOrders().map((o) => o.orderId), ['o1']);
  t.same(await reopened.enqueueOrder({ orderId: 'o2', testCode: 'EKG01', patient: patient('2') }), { status: 'queued' }, 'the same order id again: no second entry');
  t.equal(reopened.queued, 1);

  await fs.unlink(path.join(s.layout.orderDir, 'EKGTPRAX.GDT')); // the device consumed it
  t.same(await reopened.pump(), { written: ['EKGTPRAX.GDT'] });
  t.equal(await patientNumberOf(path.join(s.layout.orderDir, 'EKGTPRAX.GDT')), '2');
  t.same(await reopened.enqueueOrder({ orderId: 'o2', testCode: 'EKG01', patient: patient('2') }), { status: 'written' });
  t.equal(reopened.current()?.orderId, 'o2');
  t.match(reopened.view(), { queued: [], openOrders: 2, currentOrder: { orderId: 'o2', testCode: 'EKG01' } });
  t.notOk(JSON.stringify(reopened.view()).includes('Prüfmann'), 'the view carries no patient data');
});

t.test('incrementing names: every order goes out at once, .001, .002, …', async (t) => {
  const s = await setup(t, 'incrementing');
  const q = await s.open();
  for (const id of ['a', 'b', 'c']) await q.enqueueOrder({ orderId: id, testCode: 'LUFU01', patient: patient(id) });
  t.same(await q.pump(), { written: ['EKGTPRAX.001', 'EKGTPRAX.002', 'EKGTPRAX.003'] });
  await fs.unlink(path.join(s.layout.orderDir, 'EKGTPRAX.001'));
  await q.enqueueOrder({ orderId: 'd', testCode: 'LUFU01', patient: patient('d') });
  t.same(await q.pump(), { written: ['EKGTPRAX.004'] }, 'the counter goes on, not back to a freed number');
});

t.test('cancel: a queued order is dropped, a written one gets a 6303; unknown ids are NotFound', async (t) => {
  const s = await setup(t);
  const q = await s.open();
  await q.enqueueOrder({ orderId: 'o1', testCode: 'EKG01', patient: patient('1') });
  await q.pump();
  await q.enqueueOrder({ orderId: 'o2', testCode: 'EKG01', patient: patient('2') });
  t.same(await q.cancel('o2'), { status: 'removed' });
  t.same(await q.cancel('o2'), { status: 'removed' }, 'idempotent');
  t.same(await q.enqueueOrder({ orderId: 'o2', testCode: 'EKG01', patient: patient('2') }), { status: 'cancelled' }, 'a cancelled order is not revived by a resend');
  t.same(await q.cancel('o1'), { status: 'cancel-queued' });
  t.same(await q.cancel('o1'), { status: 'cancel-queued' });
  t.equal(q.current(), undefined, 'a cancelled order is no longer current');
  await t.rejects(q.cancel('nope'), { code: 'NotFound', message: 'no open order with this id for this device' });
  await fs.unlink(path.join(s.layout.orderDir, 'EKGTPRAX.GDT'));
  t.same(await q.pump(), { written: ['EKGTPRAX.GDT'] });
  const cancel = parseGdt(await fs.readFile(path.join(s.layout.orderDir, 'EKGTPRAX.GDT'))).records[0]!;
  t.same(cancel.fields.slice(0, 1), [{ id: '8000', value: '6303' }]);
  t.equal(viewRecord(cancel).patient.number, '1');
  t.same(await q.cancel('o1'), { status: 'cancel-written' });
});

t.test('a 6301 answer goes ahead of waiting orders; its source is remembered', async (t) => {
  const s = await setup(t, 'incrementing');
  const q = await s.open();
  await q.enqueueOrder({ orderId: 'o1', testCode: 'EKG01', patient: patient('1') });
  await q.enqueueMasterData(patient('1'), 'ekg1/abc');
  await q.enqueueMasterData(patient('1'), 'ekg1/abc');
  t.equal(q.queued, 2, 'the same request is answered once');
  t.ok(q.hasSource('ekg1/abc'));
  t.same(await q.pump(), { written: ['EKGTPRAX.001', 'EKGTPRAX.002'] });
  t.equal(parseGdt(await fs.readFile(path.join(s.layout.orderDir, 'EKGTPRAX.001'))).records[0]!.fields[0]!.value, '6301');
  t.ok(q.hasSource('ekg1/abc'), 'still known after writing');
  await q.resolve(['o1']);
  t.same(q.openOrders(), []);
});

t.test('crash recovery: every state between temp file and "written" finishes without a second file', async (t) => {
  const s = await setup(t);
  const q = await s.open();
  await q.enqueueOrder({ orderId: 'o1', testCode: 'EKG01', patient: patient('1') });
  const state = JSON.parse(await fs.readFile(s.file, 'utf8')) as { queue: Array<{ entryId: string; bytes: string; writing?: unknown }> };
  const entry = state.queue[0]!;
  const tmp = path.join(s.layout.orderDir, `.EKGTPRAX.${entry.entryId}.tmp`);
  const target = path.join(s.layout.orderDir, 'EKGTPRAX.GDT');
  const crashAt = async (files: { tmp: boolean; target: 'none' | 'ours' | 'other' }): Promise<OrderQueue> => {
    await fs.rm(tmp, { force: true });
    await fs.rm(target, { force: true });
    if (files.tmp) await fs.writeFile(tmp, Buffer.from(entry.bytes, 'base64'));
    if (files.target === 'ours') await fs.writeFile(target, Buffer.from(entry.bytes, 'base64'));
    if (files.target === 'other') await fs.writeFile(target, 'someone else');
    await fs.writeFile(s.file, JSON.stringify({ ...state, queue: [{ ...entry, writing: { tmp, target, counter: 0 } }] }));
    return s.open();
  };
  let r = await crashAt({ tmp: true, target: 'none' });
  t.same(await r.pump(), { written: ['EKGTPRAX.GDT'] }, 'killed before the link: linked now');
  t.same(await s.files(), ['EKGTPRAX.GDT']);
  r = await crashAt({ tmp: true, target: 'ours' });
  t.same(await r.pump(), { written: ['EKGTPRAX.GDT'] }, 'killed after the link: temp removed, nothing rewritten');
  t.same(await s.files(), ['EKGTPRAX.GDT']);
  r = await crashAt({ tmp: false, target: 'none' });
  t.same(await r.pump(), { written: ['EKGTPRAX.GDT'] }, 'killed after removing the temp file, device consumed it: counted as written');
  t.same(await s.files(), [], 'and not written a second time');
  t.same(r.openOrders().map((o) => o.orderId), ['o1']);
  r = await crashAt({ tmp: true, target: 'other' });
  t.same(await r.pump(), { written: [], waiting: 'previous-unconsumed' }, 'a foreign file at the name is never replaced');
  t.equal(await fs.readFile(target, 'utf8'), 'someone else');
  t.same(await s.files(), ['EKGTPRAX.GDT'], 'temp file cleaned up');
  await fs.rm(target);
  t.same(await r.pump(), { written: ['EKGTPRAX.GDT'] });
});

t.test('an unreadable state file is an error naming the file, never silently emptied', async (t) => {
  const s = await setup(t);
  await fs.mkdir(path.dirname(s.file), { recursive: true });
  await fs.writeFile(s.file, '{"version":1,"queue":');
  await t.rejects(s.open(), { code: 'Corrupt', message: /ekg1\.orders\.json is unreadable/ });
});
