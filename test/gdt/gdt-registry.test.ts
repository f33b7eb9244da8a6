import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { HashRegistry, type RegistryEntry } from '../../agent/gdt/hash-registry.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';

const entry = (n: number, state: RegistryEntry['state'] = 'done', at = 1_000): RegistryEntry => ({
  key: `ekg1/${String(n).padStart(64, '0')}`,
  state,
  kind: 'result',
  importId: `imp${n}`,
  file: `F${n}.GDT`,
  archiveName: `A${n}`,
  attachments: n % 2 === 0 ? ['', `/x/${n}.pdf`] : [],
  ...(state === 'pending' ? { seqBefore: n } : {}),
  at,
});

t.test('entries survive reopening; the last line per key wins; removals stick', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'state', 'registry.jsonl');
  const log = captureLog().log;
  let now = 5_000;
  const reg = await HashRegistry.open({ file, log, now: () => now });
  await reg.put(entry(1, 'pending'));
  await reg.put(entry(1, 'done'));
  await reg.put(entry(2, 'pending'));
  await reg.put(entry(3));
  await reg.remove(entry(3).key);
  await reg.close();
  const again = await HashRegistry.open({ file, log, now: () => now });
  t.same(again.get(entry(1).key), entry(1, 'done'));
  t.same(again.get(entry(2).key), entry(2, 'pending'));
  t.equal(again.get(entry(3).key), undefined);
  t.same(again.forDevice('ekg1').map((e) => e.file).sort(), ['F1.GDT', 'F2.GDT']);
  t.same(again.forDevice('ekg'), []);
  await again.close();
  now += 91 * 86_400_000;
  const later = await HashRegistry.open({ file, log, now: () => now });
  t.equal(later.get(entry(1).key), undefined, 'done entries expire after 90 days');
  t.ok(later.get(entry(2).key), 'pending entries never expire');
  await later.close();
  t.equal((await fs.readFile(file, 'utf8')).trim().split('\n').length, 1, 'compacted to the live entries');
});

t.test('a torn last line (kill -9 mid-write) and garbage lines are dropped, the rest kept', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'registry.jsonl');
  const captured = captureLog();
  await fs.writeFile(file, `${JSON.stringify(entry(1))}\nnot json\n{"key":5}\n${JSON.stringify(entry(2)).slice(0, 40)}`);
  const reg = await HashRegistry.open({ file, log: captured.log, now: () => 2_000 });
  t.same(reg.get(entry(1).key), entry(1));
  t.equal(reg.size, 1);
  t.match(captured.text(), /unreadable lines skipped/);
  await reg.put(entry(4));
  await reg.close();
  const text = await fs.readFile(file, 'utf8');
  t.equal(text, `${JSON.stringify(entry(1))}\n${JSON.stringify(entry(4))}\n`, 'rewritten clean, then appended');
});

t.test('many updates compact the log instead of growing it', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const file = path.join(dir, 'registry.jsonl');
  const reg = await HashRegistry.open({ file, log: captureLog().log, now: () => 1 });
  for (let i = 0; i < 1_200; i++) await reg.put(entry(i % 10, i % 2 === 0 ? 'pending' : 'done', 1));
  const lines = (await fs.readFile(file, 'utf8')).trim().split('\n').length;
  t.ok(lines < 300, `log stays small (${lines} lines for 10 keys)`);
  await reg.close();
  const again = await HashRegistry.open({ file, log: captureLog().log, now: () => 1 });
  t.equal(again.size, 10);
  t.equal(again.get(entry(3).key)?.state, 'done');
  await again.close();
  await t.rejects(again.put(entry(1)), { code: 'DeviceUnavailable' }, 'closed registry refuses writes');
});
