import type { Test } from 'tap';
import type { Outbox } from '../../agent/outbox/outbox-event.js';
import { ErrorCode, isPraxisboxError } from '../../agent/core/errors.js';
import { patientData } from '../../agent/core/patient-data.js';

/**
 * The outbox contract: every implementation (and every configuration of one) must pass it.
 * `open` opens the store on the same storage each time it is called (a "restart").
 */
export interface OutboxStorage {
  open(opts?: { maxBytes?: number }): Promise<Outbox>;
}

/** Makes fresh, empty storage for one test; removed at the test's teardown. */
export type OutboxFactory = (t: Test) => Promise<OutboxStorage>;

export function outboxContract(t: Test, fresh: OutboxFactory): void {
  t.test('append assigns increasing seq and unique ids, and pending returns them in order', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open();
    const events = await Promise.all(Array.from({ length: 50 }, (_, i) => box.append('test.event', { i })));
    const seqs = events.map((e) => e.seq);
    t.same(seqs, [...seqs].sort((a, b) => a - b), 'seq in append order');
    t.equal(new Set(events.map((e) => e.id)).size, 50, 'ids unique');
    for (let i = 1; i < seqs.length; i++) t.equal(seqs[i], (seqs[i - 1] as number) + 1);
    const pending = await box.pending(0, 1000);
    t.same(pending.map((e) => (e.data as { i: number }).i), Array.from({ length: 50 }, (_, i) => i));
    t.same(pending[0], { ...events[0], data: { i: 0 } }, 'stored envelope equals the returned one');
    t.equal(box.stats().depth, 50);
    await box.close();
  });

  t.test('events survive a restart; acked ones do not come back', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open();
    const before = box.stats().lastSeq;
    const a = await box.append('test.keep', { n: 1 });
    const b = await box.append('test.ack', { n: 2 });
    await box.ack(b.seq);
    await box.close();
    const reopened = await factory.open();
    const pending = await reopened.pending(before, 100);
    t.same(pending.map((e) => e.id), [a.id]);
    const c = await reopened.append('test.after', {});
    t.ok(c.seq > b.seq, 'seq keeps increasing across restarts');
    await reopened.close();
  });

  t.test('seq keeps increasing after everything was acknowledged and files were deleted', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open();
    let last = 0;
    for (let round = 0; round < 3; round++) {
      const batch = await Promise.all(Array.from({ length: 200 }, () => box.append('test.fill', { pad: 'x'.repeat(200) })));
      for (const e of batch) await box.ack(e.seq);
      last = batch[batch.length - 1]?.seq ?? last;
    }
    t.equal(box.stats().depth > 0 ? 'not drained' : 'drained', 'drained');
    await box.close();
    const reopened = await factory.open();
    t.equal(reopened.stats().depth, 0);
    const next = await reopened.append('test.next', {});
    t.ok(next.seq > last, `next seq ${next.seq} > ${last}`);
    await reopened.ack(next.seq);
    await reopened.close();
  });

  t.test('pending pages through events after a cursor', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open();
    const start = box.stats().lastSeq;
    const events = await Promise.all(Array.from({ length: 10 }, (_, i) => box.append('test.page', { i })));
    const first = await box.pending(start, 4);
    t.same(first.map((e) => e.seq), events.slice(0, 4).map((e) => e.seq));
    const second = await box.pending(first[3]?.seq ?? 0, 4);
    t.same(second.map((e) => e.seq), events.slice(4, 8).map((e) => e.seq));
    await box.ack(events[5]?.seq ?? 0);
    const third = await box.pending(start, 100);
    t.notOk(third.some((e) => e.seq === events[5]?.seq), 'out-of-order ack removes just that event');
    t.equal(third.length, 9);
    for (const e of events) await box.ack(e.seq);
    await box.ack(events[0]?.seq ?? 0);
    t.pass('acking twice is harmless');
    await box.close();
  });

  t.test('patient data is stored (it is bound for the cloud), revealed from its marker', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open();
    const e = await box.append('card.read', { person: patientData({ surname: 'Mustermann' }) });
    const [stored] = await box.pending(e.seq - 1, 1);
    t.same(stored?.data, { person: { surname: 'Mustermann' } });
    await box.ack(e.seq);
    await box.close();
  });

  t.test('bad input is refused with a typed error and nothing is stored', async (t) => {
    const factory = await fresh(t);
    const small = await factory.open({ maxBytes: 1024 * 1024 });
    const box = small;
    const depth = box.stats().depth;
    await t.rejects(box.append('Not A Type', {}), { code: ErrorCode.InvalidInput });
    await t.rejects(small.append('test.huge', { blob: 'x'.repeat(2 * 1024 * 1024) }), { code: ErrorCode.InvalidInput }, 'an event larger than the whole cap');
    t.equal(box.stats().depth, depth);
    await box.close();
  });

  t.test('full: producers get backpressure (typed error or bounded wait), never a silent drop', async (t) => {
    const factory = await fresh(t);
    const box = await factory.open({ maxBytes: 1024 * 1024 });
    const start = box.stats().lastSeq;
    const accepted: number[] = [];
    let refused = 0;
    for (let i = 0; i < 40; i++) {
      try {
        accepted.push((await box.append('test.big', { blob: 'y'.repeat(64 * 1024) })).seq);
      } catch (err) {
        t.ok(isPraxisboxError(err) && err.code === ErrorCode.OutboxFull, 'OutboxFull');
        refused += 1;
      }
    }
    t.ok(refused > 0, `refused ${refused}`);
    t.equal(box.stats().full, true, 'reports full');
    t.equal((await box.pending(start, 1000)).length, accepted.length, 'every accepted event is stored');
    // A waiting producer gets in once something is delivered.
    const waiting = box.append('test.big', { blob: 'z'.repeat(64 * 1024) }, { waitMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    t.equal(box.stats().waitingProducers, 1);
    await box.ack(accepted[0] as number);
    const admitted = await waiting;
    t.ok(admitted.seq > (accepted[accepted.length - 1] as number));
    await t.rejects(box.append('test.big', { blob: 'w'.repeat(64 * 1024) }, { waitMs: 30 }), { code: ErrorCode.OutboxFull });
    for (const seq of [...accepted.slice(1), admitted.seq]) await box.ack(seq);
    t.equal(box.stats().full, false, 'accepts again when drained');
    await box.close();
  });
}
