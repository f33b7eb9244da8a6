import t from 'tap';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import { systemClock } from '../../agent/core/clock.js';
import { tempDir, repoRoot, longMode } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { onLines } from '../helpers/child-lines.js';

/**
 * kill -9 at random points while a child process appends and acknowledges. After every kill the
 * store is recovered and checked: every event whose append had resolved (reported `A`) and that was
 * never handed to `ack` is there exactly once, with the same id and seq; nothing appears twice;
 * seq never goes backwards across restarts.
 */
const ITERATIONS = longMode ? 300 : 25;
const child = path.join(repoRoot, 'test', 'helpers', 'outbox-crash-child.mjs');

interface Run {
  durable: Map<number, string>;
  ackRequested: Set<number>;
  recoveredLastSeq: number;
}

function runUntilKilled(dir: string, segmentBytes: number, killAfterMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dir, String(segmentBytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const run: Run = { durable: new Map(), ackRequested: new Set(), recoveredLastSeq: -1 };
    let timer: NodeJS.Timeout | undefined;
    onLines(proc.stdout, (line) => {
      const [kind, seq, id] = line.split(' ');
      if (kind === 'R') {
        run.recoveredLastSeq = Number(seq);
        timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      } else if (kind === 'A') run.durable.set(Number(seq), id as string);
      else if (kind === 'T') run.ackRequested.add(Number(seq));
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (code ${code}, signal ${signal})`));
      else resolve(run);
    });
  });
}

t.test(`outbox survives ${ITERATIONS} kill -9 at random points`, async (t) => {
  const { dir, cleanup } = await tempDir();
  t.teardown(cleanup);
  // Small segments so kills also land around rotation and segment deletion.
  const segmentBytes = 16 * 1024;
  const promised = new Map<number, string>();
  const mayBeGone = new Set<number>();
  let highestSeq = 0;
  let totalDurable = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const run = await runUntilKilled(dir, segmentBytes, 20 + Math.floor(Math.random() * 180));
    t.ok(run.recoveredLastSeq >= highestSeq, `iteration ${i}: recovery resumed at seq ${run.recoveredLastSeq} ≥ ${highestSeq}`);
    let reused = 0;
    for (const [seq, id] of run.durable) {
      if (promised.has(seq)) reused += 1;
      promised.set(seq, id);
      highestSeq = Math.max(highestSeq, seq);
    }
    t.equal(reused, 0, `iteration ${i}: no seq handed out twice`);
    for (const seq of run.ackRequested) mayBeGone.add(seq);
    totalDurable += run.durable.size;

    const box = await FileOutbox.open({ dir, maxBytes: 256 * 1024 * 1024, segmentBytes, clock: systemClock, log: captureLog('error').log });
    const stored = await box.pending(0, 10_000_000);
    const seen = new Set<string>();
    let prev = 0;
    let missing = 0;
    for (const e of stored) {
      if (seen.has(e.id)) t.fail(`event ${e.id} stored twice`);
      seen.add(e.id);
      if (e.seq <= prev) t.fail(`seq out of order: ${e.seq} after ${prev}`);
      prev = e.seq;
      const expected = promised.get(e.seq);
      if (expected !== undefined && expected !== e.id) t.fail(`seq ${e.seq} holds another event`);
    }
    const storedBySeq = new Set(stored.map((e) => e.seq));
    for (const seq of promised.keys()) {
      if (!mayBeGone.has(seq) && !storedBySeq.has(seq)) missing += 1;
    }
    t.equal(missing, 0, `iteration ${i}: no durable, unacknowledged event lost (${stored.length} stored)`);
    await box.close();
  }
  t.ok(totalDurable > ITERATIONS * 10, `the child made real progress (${totalDurable} durable appends)`);
});
