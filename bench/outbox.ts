import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { FileOutbox } from '../agent/outbox/file-outbox.js';
import { createLogger } from '../agent/core/logger.js';
import { systemClock } from '../agent/core/clock.js';
import { encodeFrame } from '../agent/outbox/frame.js';
import { median, percentile, round, type Bench } from './bench-result.js';

/**
 * Durable appends: the outbox's group commit vs a baseline that fsyncs every event and vs a plain
 * appendFile loop with no fsync at all, each on the same payloads in the same run, interleaved over
 * several rounds; medians reported. Latency is append call → promise resolved (= durable).
 */
const PAYLOAD = {
  terminalId: 'empfang-1',
  workstationIds: ['ws-1'],
  cardType: 'egk',
  person: { insuranceNumber: 'X000000000', firstName: 'Vorname', surname: 'Nachname', birthDate: '1970-01-01', street: 'Musterweg 1', postcode: '12345', city: 'Musterstadt' },
  coverage: { payerIk: '100000000', payerName: 'Beispielkasse', start: '2020-01-01', insuredType: '1' },
};

interface Sample {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

async function groupCommit(dir: string, events: number, window: number): Promise<Sample> {
  const log = createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, cb) => cb() }) });
  const box = await FileOutbox.open({ dir, maxBytes: 1 << 30, segmentBytes: 8 << 20, clock: systemClock, log });
  const latencies = new Float64Array(events);
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < events) {
      const i = next++;
      const s = performance.now();
      await box.append('card.read', PAYLOAD);
      latencies[i] = performance.now() - s;
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  await box.close();
  const all = Array.from(latencies);
  return { eventsPerSec: events / elapsed, p50Ms: percentile(all, 50), p99Ms: percentile(all, 99) };
}

async function fsyncEach(dir: string, events: number): Promise<Sample> {
  const fh = await fs.open(path.join(dir, 'each.log'), 'a');
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const s = performance.now();
    await fh.write(encodeFrame(Buffer.from(JSON.stringify({ id: String(i), seq: i, type: 'card.read', ts: new Date().toISOString(), data: PAYLOAD }))));
    await fh.datasync();
    latencies.push(performance.now() - s);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await fh.close();
  return { eventsPerSec: events / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function appendFileLoop(dir: string, events: number): Promise<Sample> {
  const file = path.join(dir, 'plain.log');
  const latencies: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < events; i++) {
    const s = performance.now();
    await fs.appendFile(file, JSON.stringify({ id: String(i), seq: i, type: 'card.read', ts: new Date().toISOString(), data: PAYLOAD }) + '\n');
    latencies.push(performance.now() - s);
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { eventsPerSec: events / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

export const bench: Bench = async ({ quick }) => {
  const rounds = quick ? 2 : 5;
  const events = quick ? 10_000 : 50_000;
  const baselineEvents = quick ? 1_000 : 5_000;
  const window = 128;
  const results = { group: [] as Sample[], each: [] as Sample[], plain: [] as Sample[] };
  for (let r = 0; r < rounds; r++) {
    for (const kind of ['group', 'each', 'plain'] as const) {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'praxisbox-bench-outbox-'));
      try {
        if (kind === 'group') results.group.push(await groupCommit(dir, events, window));
        else if (kind === 'each') results.each.push(await fsyncEach(dir, baselineEvents));
        else results.plain.push(await appendFileLoop(dir, baselineEvents));
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    }
  }
  const m = (xs: Sample[], k: keyof Sample): number => median(xs.map((x) => x[k]));
  const groupRate = m(results.group, 'eventsPerSec');
  const groupP99 = m(results.group, 'p99Ms');
  return {
    name: 'outbox',
    figures: {
      'rounds (median of)': rounds,
      'group commit: events per round': events,
      'group commit: producers in flight': window,
      'group commit: durable events/s': Math.round(groupRate),
      'group commit: p50 append→durable ms': round(m(results.group, 'p50Ms')),
      'group commit: p99 append→durable ms': round(groupP99),
      'fsync every event: events/s': Math.round(m(results.each, 'eventsPerSec')),
      'fsync every event: p99 ms': round(m(results.each, 'p99Ms')),
      'appendFile, no fsync: events/s': Math.round(m(results.plain, 'eventsPerSec')),
      'ratio group commit / fsync-each': round(groupRate / m(results.each, 'eventsPerSec')),
      'ratio group commit / appendFile (no fsync)': round(groupRate / m(results.plain, 'eventsPerSec')),
    },
    targets: [
      { what: '≥ 20,000 durable events/s with group commit', met: groupRate >= 20_000 },
      { what: 'p99 append→durable ≤ 20 ms', met: groupP99 <= 20 },
    ],
  };
};
