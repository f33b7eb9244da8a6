import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import { systemClock } from '../../agent/core/clock.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { outboxContract } from './outbox-contract.js';

async function openIn(dir: string, opts: { maxBytes?: number; segmentBytes?: number } = {}): Promise<FileOutbox> {
  return FileOutbox.open({
    dir,
    maxBytes: opts.maxBytes ?? 64 * 1024 * 1024,
    segmentBytes: opts.segmentBytes ?? 8 * 1024 * 1024,
    clock: systemClock,
    log: captureLog().log,
  });
}

for (const segmentBytes of [8 * 1024 * 1024, 4 * 1024]) {
  t.test(`contract with ${segmentBytes}-byte segments`, async (t) => {
    outboxContract(t, async (st) => {
      const { dir, cleanup } = await tempDir();
      st.teardown(cleanup);
      return { open: (o) => openIn(dir, { segmentBytes, ...(o?.maxBytes ? { maxBytes: o.maxBytes } : {}) }) };
    });
  });
}

t.test('files are private (0600) and segments are deleted once delivered', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const box = await openIn(dir, { segmentBytes: 4096 });
  const events = await Promise.all(Array.from({ length: 100 }, (_, i) => box.append('test.file', { i, pad: 'p'.repeat(100) })));
  const segs = (await fs.readdir(dir)).filter((f) => f.startsWith('seg-'));
  t.ok(segs.length > 2, `rolled over into ${segs.length} segments`);
  for (const f of await fs.readdir(dir)) {
    const st = await fs.stat(path.join(dir, f));
    if (st.isFile()) t.equal(st.mode & 0o777, 0o600, `${f} is 0600`);
  }
  for (const e of events) await box.ack(e.seq);
  await box.append('test.after', {});
  const left = (await fs.readdir(dir)).filter((f) => f.startsWith('seg-'));
  t.ok(left.length <= 2, `delivered segments deleted (left ${left.length})`);
  await box.close();
});

t.test('a torn tail (crash mid-write) is cut off and kept aside; everything before survives', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const box = await openIn(dir);
  const events = await Promise.all(Array.from({ length: 20 }, (_, i) => box.append('test.torn', { i })));
  await box.close();
  const seg = path.join(dir, (await fs.readdir(dir)).find((f) => f.startsWith('seg-')) as string);
  const full = await fs.readFile(seg);
  // A half-written 21st frame: header says 500 bytes, only 30 arrived.
  const torn = Buffer.alloc(38);
  torn.writeUInt32BE(500, 0);
  await fs.appendFile(seg, torn);
  const reopened = await openIn(dir);
  const pending = await reopened.pending(0, 100);
  t.same(pending.map((e) => e.id), events.map((e) => e.id), 'all 20 durable events intact');
  t.equal((await fs.stat(seg)).size, full.length, 'file truncated to the last good frame');
  const corrupt = await fs.readdir(path.join(dir, 'corrupt'));
  t.equal(corrupt.filter((f) => f.endsWith('.reason.txt')).length, 1, 'torn bytes kept with a reason');
  const next = await reopened.append('test.torn', { i: 20 });
  t.equal(next.seq, (events[19]?.seq ?? 0) + 1, 'numbering continues');
  await reopened.close();
});

t.test('a flipped bit inside an older segment is reported, kept aside, and the rest is served', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const box = await openIn(dir, { segmentBytes: 2048 });
  await Promise.all(Array.from({ length: 60 }, (_, i) => box.append('test.bits', { i, pad: 'q'.repeat(60) })));
  await box.close();
  const segs = (await fs.readdir(dir)).filter((f) => f.startsWith('seg-')).sort();
  t.ok(segs.length >= 3);
  const victim = path.join(dir, segs[0] as string);
  const buf = await fs.readFile(victim);
  buf[buf.length - 10] = (buf[buf.length - 10] as number) ^ 0xff;
  await fs.writeFile(victim, buf);
  const log = captureLog();
  const reopened = await FileOutbox.open({ dir, maxBytes: 1 << 26, segmentBytes: 2048, clock: systemClock, log: log.log });
  t.equal(reopened.problems.length, 1, 'damage reported');
  t.match(log.text(), /checksum mismatch/);
  const pending = await reopened.pending(0, 1000);
  t.ok(pending.length >= 58 && pending.length < 60, `lost only the damaged record (${pending.length} left)`);
  t.ok((await fs.readdir(path.join(dir, 'corrupt'))).length >= 2, 'damaged bytes kept');
  await reopened.close();
});

t.test('a foreign file named like a segment is moved aside, not trusted', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  await fs.writeFile(path.join(dir, 'seg-00000000000000000001.log'), 'hello, not a segment');
  const box = await openIn(dir);
  t.equal(box.stats().depth, 0);
  const e = await box.append('test.ok', {});
  t.equal(e.seq, 1);
  t.ok((await fs.readdir(path.join(dir, 'corrupt'))).some((f) => f.startsWith('seg-00000000000000000001.log')));
  await box.close();
});
