import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { CloudSim } from '../../agent/cloud/sim/cloud-sim.js';
import type { OutboxEvent } from '../../agent/outbox/outbox-event.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { startTestAgent, eventually } from '../helpers/test-agent.js';
import { repoRoot, tempDir, longMode } from '../helpers/fixtures.js';
import { onLines } from '../helpers/child-lines.js';

/** De-duplicated by id, the events must be in strictly increasing seq order; a seq never has two ids. */
function checkOrder(t: Test, events: readonly OutboxEvent[]): void {
  let last = 0;
  let outOfOrder = 0;
  for (const e of events) {
    if (e.seq <= last) outOfOrder += 1;
    last = e.seq;
  }
  t.equal(outOfOrder, 0, 'first arrivals are in seq order');
}

t.test('outage: broker down, 10,000 events, broker back → all arrive, in seq order', async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.teardown(broker.cleanup);
  // The cloud side keeps a persistent session, as a production consumer would.
  const cloud = await CloudSim.connect({ url: broker.url, clientId: 'cloud-outage-test' });
  t.teardown(() => cloud.close());
  const box = await startTestAgent({ PRAXISBOX_CLOUD_URL: broker.url }, { config: { cloud: { reconnectMaxMs: 2_000 } } });
  t.teardown(box.stop);
  await eventually('online', () => cloud.box(box.boxId).state?.online === true);

  await broker.stop();
  await eventually('link down', () => box.agent.cloud.status()['link'] !== 'connected');
  const produced: OutboxEvent[] = [];
  for (let i = 0; i < 10_000; i += 100) {
    produced.push(...(await Promise.all(Array.from({ length: 100 }, (_, k) => box.agent.outbox.append('test.outage', { i: i + k })))));
  }
  t.equal(box.agent.outbox.stats().depth, 10_000, 'all 10,000 held durably while the broker is down');
  await broker.start();
  const view = cloud.box(box.boxId);
  await eventually('all 10,000 received', () => view.events.filter((e) => e.type === 'test.outage').length === 10_000, 120_000).catch((err: unknown) => {
    const got = new Set(view.events.map((e) => e.seq));
    const missing = produced.filter((e) => !got.has(e.seq)).map((e) => e.seq);
    t.comment(`missing ${missing.length}: first ${missing.slice(0, 5).join(',')} last ${missing.slice(-5).join(',')}`);
    t.comment(JSON.stringify({ received: view.events.length, dup: view.duplicates, cloud: box.agent.cloud.status(), outbox: box.agent.outbox.stats() }));
    throw err;
  });
  const received = view.events.filter((e) => e.type === 'test.outage');
  t.same(received.map((e) => e.id), produced.map((e) => e.id), 'every event, exactly these ids, in seq order');
  checkOrder(t, received);
  t.comment(`duplicates seen by the cloud (same id, resent): ${view.duplicates}`);
  await eventually('outbox drained', () => box.agent.outbox.stats().depth === 0, 30_000);
});

t.test('crash: kill -9 the agent repeatedly while it produces and drains → nothing lost', async (t) => {
  const broker = await startMosquitto({ persistence: true });
  t.teardown(broker.cleanup);
  const cloud = await CloudSim.connect({ url: broker.url, clientId: 'cloud-crash-test' });
  t.teardown(() => cloud.close());
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  const child = path.join(repoRoot, 'test', 'helpers', 'cloud-producer-child.mjs');
  const durable = new Map<number, string>();
  const runChild = (produce: number, killAfterMs: number | undefined): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = spawn(process.execPath, [child, dir, broker.url, String(produce)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let timer: NodeJS.Timeout | undefined;
      onLines(proc.stdout, (line) => {
        const [kind, seq, id] = line.split(' ');
        if (kind === 'S' && killAfterMs !== undefined) timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
        if (kind === 'A') durable.set(Number(seq), id as string);
      });
      proc.on('error', reject);
      proc.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      t.teardown(() => void proc.kill('SIGKILL'));
    });
  const iterations = longMode ? 40 : 8;
  for (let i = 0; i < iterations; i++) await runChild(2_000, 150 + Math.floor(Math.random() * 600));
  // A last run that lives until everything is delivered (killed at teardown).
  void runChild(0, undefined);
  const box = (): ReturnType<typeof cloud.boxes>[number] | undefined => cloud.boxes().find((b) => b.state?.version === 'crash-test');
  await eventually(
    'every durable event delivered',
    () => {
      const seen = new Set(box()?.events.map((e) => e.id) ?? []);
      return [...durable.values()].every((id) => seen.has(id));
    },
    120_000,
  );
  const events = box()?.events ?? [];
  const bySeq = new Map(events.map((e) => [e.seq, e.id]));
  let mismatched = 0;
  for (const [seq, id] of durable) if (bySeq.get(seq) !== id) mismatched += 1;
  t.equal(mismatched, 0, `all ${durable.size} durable events arrived with their seq and id`);
  t.ok(durable.size > iterations * 20, `the children made progress (${durable.size} events)`);
  t.comment(`duplicates seen by the cloud: ${box()?.duplicates ?? 0}`);
});
