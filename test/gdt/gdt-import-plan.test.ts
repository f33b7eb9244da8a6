import t from 'tap';
import { archiveName, archiveStamp, attachmentArchiveName, classifyRecords, expiredNames, looksIncomplete, readiness, stampTime } from '../../agent/gdt/import-plan.js';
import { StabilityTracker, waitUntilStable } from '../../agent/gdt/file-stability.js';
import { parseGdt } from '../../agent/gdt/codec/index.js';
import { gdtFile } from './gdt-build.js';

const rec = (type: string) => ({ fields: [{ id: '8000', value: type }, { id: '3000', value: '1' }] });

t.test('classify: results, a master data request, everything else rejected with a reason', async (t) => {
  t.same(classifyRecords([rec('6310')]), { kind: 'results', indexes: [0] });
  t.same(classifyRecords([rec('6311'), rec('6310')]), { kind: 'results', indexes: [0, 1] });
  t.same(classifyRecords([rec('6300')]), { kind: 'master-data-request', index: 0 });
  t.same(classifyRecords([rec('6302')]), {
    kind: 'reject',
    code: 'not-a-result',
    message: 'record type 6302 is not something a device sends to the practice (expected 6310, 6311 or 6300)',
  });
  t.match(classifyRecords([rec('6310'), rec('6301')]), { kind: 'reject', code: 'mixed-records' });
  t.match(classifyRecords([rec('6300'), rec('6300')]), { kind: 'reject', code: 'mixed-records' });
  t.match(classifyRecords([{ fields: [{ id: '3000', value: 'x' }] }]), { kind: 'reject', code: 'not-a-result' });
});

t.test('a last record shorter than its 8100 looks cut off', async (t) => {
  const whole = gdtFile([['8000', '6310'], ['8100', 'auto'], ['3000', '12'], ['8410', 'HF'], ['8420', '72']]);
  t.equal(looksIncomplete(parseGdt(whole)), false);
  const text = whole.toString('latin1');
  const cut = Buffer.from(text.slice(0, text.lastIndexOf('011842072')), 'latin1');
  t.equal(looksIncomplete(parseGdt(cut)), true, 'cut at a line end');
  t.equal(looksIncomplete(parseGdt(Buffer.from(text.slice(0, text.length - 4), 'latin1'))), true, 'cut mid-line');
  const longer = gdtFile([['8000', '6310'], ['8100', '00020'], ['3000', '12']]);
  t.equal(looksIncomplete(parseGdt(longer)), false, 'an 8100 smaller than the record is a writer bug, not a cut');
});

t.test('readiness: suspicious files wait for incompleteWaitMs since their last change', async (t) => {
  t.same(readiness(false, 0, 5000), { ready: true });
  t.same(readiness(true, 1200, 5000), { ready: false, retryInMs: 3800 });
  t.same(readiness(true, 5000, 5000), { ready: true });
  t.same(readiness(true, 10, 0), { ready: true });
});

t.test('stability: unchanged size, mtime and inode for stableMs on the box clock', async (t) => {
  const tracker = new StabilityTracker();
  const a = { size: 10, mtimeMs: 1000, ino: 7 };
  const first = tracker.observe('f', a, 5000);
  t.same(first, { stat: a, since: 5000 });
  t.equal(waitUntilStable(first!, 5050, 200), 150);
  t.equal(tracker.observe('f', { ...a }, 5150)?.since, 5000, 'same stat keeps its since');
  t.equal(tracker.observe('f', { ...a, size: 11 }, 5180)?.since, 5180, 'growth restarts the wait');
  t.equal(tracker.observe('f', { size: 11, mtimeMs: 1000, ino: 8 }, 5190)?.since, 5190, 'replaced by another file');
  t.equal(tracker.unchangedFor('f', 5400), 210);
  t.equal(waitUntilStable(tracker.get('f')!, 5400, 200), 0);
  t.equal(tracker.observe('f', undefined, 5500), undefined, 'gone');
  t.equal(tracker.size, 0);
  tracker.observe('x', a, 1);
  tracker.observe('y', a, 1);
  tracker.retain(new Set(['y']));
  t.same([tracker.get('x'), tracker.get('y')?.since], [undefined, 1]);
});

t.test('archive names: sortable stamp, hash, original; retention reads the stamp back', async (t) => {
  const now = Date.UTC(2024, 0, 15, 10, 30, 15, 123);
  t.equal(archiveStamp(now), '20240115T103015Z');
  const name = archiveName(now, 'ab'.repeat(32), 'PRAXEKGT.GDT');
  t.equal(name, '20240115T103015Z-abababababab-PRAXEKGT.GDT');
  t.equal(attachmentArchiveName(name, 0, 'befund-1.pdf'), '20240115T103015Z-abababababab-a1-befund-1.pdf');
  t.equal(stampTime(name), Date.UTC(2024, 0, 15, 10, 30, 15));
  t.equal(stampTime('PRAXEKGT.GDT'), undefined);
  const day = 86_400_000;
  const names = [archiveName(now - 8 * day, 'a', 'x.GDT'), archiveName(now - 6 * day, 'b', 'y.GDT'), 'not-ours.GDT', `${archiveName(now - 30 * day, 'c', 'z.GDT')}.reason.txt`];
  t.same(expiredNames(names, now, 7), [names[0], names[3]]);
  t.same(expiredNames(names, now, 0), [names[0], names[1], names[3]]);
});
