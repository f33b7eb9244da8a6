import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { Agent } from '../agent/main.js';
import { resolvePaths } from '../agent/core/paths.js';
import { startMosquitto, type Mosquitto } from '../test/helpers/mosquitto.js';
import { median, percentile, round, type Bench } from './bench-result.js';

/**
 * Cloud link figures against a real Mosquitto on loopback:
 * - end-to-end latency: outbox append (the producer's call) → received by a QoS 1 subscriber,
 *   at 100 and 2,000 events/s;
 * - drain throughput: a backlog drained from the outbox vs `mosquitto_pub -q 1 -l` publishing the
 *   same number of messages of the same size to the same broker, both timed at the subscriber
 *   (first to last message received), side by side.
 */
const PAYLOAD = { terminalId: 'empfang-1', cardType: 'egk', person: { surname: 'Nachname', firstName: 'Vorname', birthDate: '1970-01-01' }, pad: 'x'.repeat(150) };

async function withAgent<T>(cloudUrl: string, fn: (agent: Agent) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'praxisbox-bench-cloud-'));
  if (process.env['BENCH_WINDOW']) await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({ cloud: { inflightWindow: Number(process.env['BENCH_WINDOW']) } }));
  const agent = await Agent.create({
    paths: resolvePaths({ env: { PRAXISBOX_DATA_DIR: dir }, uid: 1000, homeDir: dir }),
    version: 'bench',
    logLevel: 'error',
    logDestination: new Writable({ write: (_c, _e, cb) => cb() }),
    env: { PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0', PRAXISBOX_MODULES_DISABLED: 'cards', PRAXISBOX_CLOUD_URL: cloudUrl },
  });
  await agent.start();
  try {
    return await fn(agent);
  } finally {
    await agent.stop();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function latency(broker: Mosquitto, rate: number, count: number): Promise<{ p50: number; p99: number }> {
  return withAgent(broker.url, async (agent) => {
    await until(() => agent.cloud.status()['link'] === 'connected', 10_000);
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    const sentAt = new Map<number, number>();
    const latencies: number[] = [];
    sub.on('message', (_topic, payload) => {
      const n = (JSON.parse(payload.toString()) as { data: { n: number } }).data.n;
      const t0 = sentAt.get(n);
      if (t0 !== undefined) {
        latencies.push(performance.now() - t0);
        sentAt.delete(n);
      }
    });
    await sub.subscribeAsync(`praxisbox/v1/+/evt/#`, { qos: 1 });
    const interval = 1000 / rate;
    const start = performance.now();
    for (let n = 0; n < count; n++) {
      const due = start + n * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      sentAt.set(n, performance.now());
      void agent.outbox.append('bench.event', { n, ...PAYLOAD });
    }
    await until(() => latencies.length === count, 60_000);
    await sub.endAsync();
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  });
}

/**
 * A separate subscriber process (`mosquitto_sub -q 1 -F %U`, one timestamp per message), so the
 * receiving side never competes with the agent for its event loop. Resolves with the ms between the
 * first and the last of `count` messages.
 */
async function receiveWindow(port: number, topic: string, count: number): Promise<{ done: Promise<number> }> {
  const proc = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-q', '1', '-t', topic, '-F', '%U', '-C', String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const done = new Promise<number>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', () => {
      const stamps = out.trim().split('\n').map(Number);
      if (stamps.length !== count) reject(new Error(`subscriber saw ${stamps.length} of ${count} messages`));
      else resolve(((stamps[stamps.length - 1] as number) - (stamps[0] as number)) * 1000);
    });
  });
  // Let it subscribe before anything is published.
  await new Promise((r) => setTimeout(r, 300));
  return { done };
}

async function drainThroughput(count: number): Promise<number> {
  const broker = await startMosquitto();
  try {
    await broker.stop();
    return await withAgent(broker.url, async (agent) => {
      for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, k) => agent.outbox.append('bench.event', { n: i + k, ...PAYLOAD })));
      await broker.start();
      const rx = await receiveWindow(broker.port, 'praxisbox/v1/+/evt/#', count);
      const ms = await rx.done;
      return (count / ms) * 1000;
    });
  } finally {
    await broker.cleanup();
  }
}

async function mosquittoPubThroughput(count: number, line: string): Promise<number> {
  const broker = await startMosquitto();
  try {
    const rx = await receiveWindow(broker.port, 'bench/#', count);
    const input = `${Array.from({ length: count }, () => line).join('\n')}\n`;
    await new Promise<void>((resolve, reject) => {
      const p = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port), '-q', '1', '-l', '-t', 'bench/evt'], { stdio: ['pipe', 'ignore', 'inherit'] });
      p.on('error', reject);
      p.on('close', () => resolve());
      p.stdin.end(input);
    });
    const ms = await rx.done;
    return (count / ms) * 1000;
  } finally {
    await broker.cleanup();
  }
}

export const bench: Bench = async ({ quick }) => {
  const broker = await startMosquitto();
  let low: { p50: number; p99: number };
  let high: { p50: number; p99: number };
  try {
    low = await latency(broker, 100, quick ? 300 : 1_500);
    high = await latency(broker, 2_000, quick ? 2_000 : 10_000);
  } finally {
    await broker.cleanup();
  }
  const count = quick ? 5_000 : 20_000;
  const line = JSON.stringify({ id: '01JBENCHBENCHBENCHBENCHBEN', seq: 123456, type: 'bench.event', ts: new Date().toISOString(), data: { n: 0, ...PAYLOAD } });
  const rounds = quick ? 1 : 3;
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    ours.push(await drainThroughput(count));
    theirs.push(await mosquittoPubThroughput(count, line));
  }
  const ratio = median(ours) / median(theirs);
  return {
    name: 'cloud',
    figures: {
      'latency at 100/s: p50 ms': round(low.p50),
      'latency at 100/s: p99 ms': round(low.p99),
      'latency at 2000/s: p50 ms': round(high.p50),
      'latency at 2000/s: p99 ms': round(high.p99),
      'messages per throughput round': count,
      'message bytes': Buffer.byteLength(line),
      'outbox drain: msgs/s (median)': Math.round(median(ours)),
      'mosquitto_pub -q 1 -l: msgs/s (median)': Math.round(median(theirs)),
      'ratio drain / mosquitto_pub': round(ratio),
    },
    targets: [
      { what: 'p99 ≤ 50 ms at 100 events/s', met: low.p99 <= 50 },
      { what: 'drain throughput ≥ 0.5 × mosquitto_pub -q 1', met: ratio >= 0.5 },
    ],
    notes: ['latency: append call → received by a QoS 1 subscriber on the same loopback broker; the agent, broker and subscriber share 2 cores'],
  };
};
