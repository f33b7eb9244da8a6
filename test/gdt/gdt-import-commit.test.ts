import t from 'tap';
import path from 'node:path';
import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import { systemClock } from '../../agent/core/clock.js';
import { HashRegistry } from '../../agent/gdt/hash-registry.js';
import { ImportCommit, importIdOf } from '../../agent/gdt/import-commit.js';
import { deviceLayout } from '../../agent/gdt/device-layout.js';
import { gdtConfig } from '../../agent/gdt/gdt-config.js';
import type { ResultEventData } from '../../agent/gdt/result-event.js';
import { tempDir } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';

/** The restart decision after a kill between registry `pending` and `done`, against a real outbox. */
t.test('recoverPending: found among undelivered events, provably not appended, or undecidable', async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const log = captureLog().log;
  const outbox = await FileOutbox.open({ dir: path.join(dir, 'outbox'), maxBytes: 1 << 24, segmentBytes: 1 << 20, clock: systemClock, log });
  t.teardown(() => outbox.close());
  const registry = await HashRegistry.open({ file: path.join(dir, 'registry.jsonl'), log, now: () => 1 });
  t.teardown(() => registry.close());
  const layout = deviceLayout(gdtConfig({ devices: [{ id: 'ekg1' }] }).devices[0]!, dir);
  const commit = new ImportCommit({ deviceId: 'ekg1', layout, registry, outbox, log, now: () => 1 });
  const data = (importId: string, name = 'F.GDT'): ResultEventData => ({
    deviceId: 'ekg1', deviceName: '', importId, file: name, archiveFile: 'A', sha256: '', size: 0, charset: 'cp437', receivedAt: '', reimport: false, results: [], attachments: [], warnings: [],
  });
  const file = (n: number) => ({ name: `F${n}.GDT`, size: 10, sha256: String(n).repeat(64).slice(0, 64), stat: { size: 10, mtimeMs: 1, ino: n } });

  t.equal(importIdOf('ekg1', 'a'.repeat(64)), importIdOf('ekg1', 'a'.repeat(64)), 'stable per device and content');
  t.not(importIdOf('ekg1', 'a'.repeat(64)), importIdOf('ekg2', 'a'.repeat(64)));

  // Appended, then "killed" before done: found by importId among the undelivered events.
  const a = commit.plan(file(1), 'result', []);
  await outbox.append('other.event', { n: 1 });
  await commit.commitResult(a, data(a.importId));
  await registry.put({ ...a, state: 'pending', seqBefore: 1 });
  t.equal(await commit.recoverPending({ ...a, state: 'pending', seqBefore: 1 }), 'appended');
  t.equal(registry.get(a.key)?.state, 'done', 'and marked done');

  // Pending written, append never happened, nothing else appended since: provably not appended.
  const b = { ...commit.plan(file(2), 'result', []), seqBefore: outbox.stats().lastSeq };
  t.equal(await commit.recoverPending(b), 'not-appended');

  // Something was appended since and ours is not among the undelivered ones (delivered and acked, or another module's): undecidable.
  const c = { ...commit.plan(file(3), 'result', []), seqBefore: outbox.stats().lastSeq };
  const e = await outbox.append('card.read', { x: 1 });
  await outbox.ack(e.seq);
  t.equal(await commit.recoverPending(c), 'unknown');

  // An append the outbox refuses leaves no registry entry behind.
  const d = commit.plan(file(4), 'result', []);
  await t.rejects(commit.commitResult(d, data(d.importId, 'x'.repeat(1 << 25))), { code: 'InvalidInput' });
  t.equal(registry.get(d.key), undefined);
});
