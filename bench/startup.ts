import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, round, type Bench } from './bench-result.js';

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'praxisbox.js');

/** Spawns the agent on a fresh data dir; returns ms until "all modules started" and RSS after idling. */
async function oneStart(idleMs: number): Promise<{ startMs: number; rssMb: number; modules: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'praxisbox-bench-start-'));
  try {
    const t0 = performance.now();
    // The installed entry point itself (its shebang carries the production V8 flags).
    const proc = spawn(cli, ['start'], { env: { ...process.env, PRAXISBOX_DATA_DIR: dir, PRAXISBOX_MQTT_PORT: '0', PRAXISBOX_WEB_PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const startMs = await new Promise<number>((resolve, reject) => {
      proc.stdout.on('data', (c: Buffer) => {
        out += c.toString('utf8');
        if (out.includes('"msg":"all modules started"')) resolve(performance.now() - t0);
      });
      proc.on('close', (code) => reject(new Error(`agent exited (${code}) before it started`)));
    });
    proc.stdout.resume();
    await new Promise((r) => setTimeout(r, idleMs));
    const status = await fs.readFile(`/proc/${proc.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
    const exited = new Promise((r) => proc.on('close', r));
    proc.kill('SIGTERM');
    await exited;
    const started = out.split('\n').find((l) => l.includes('"msg":"all modules started"')) ?? '{}';
    const modules = ((JSON.parse(started) as { modules?: string[] }).modules ?? []).join(', ');
    return { startMs, rssMb: rssKb / 1024, modules };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** The floor: a bare `node -e 0` process start on the same machine in the same run. */
async function bareNode(): Promise<number> {
  const t0 = performance.now();
  await new Promise((r) => spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).on('close', r));
  return performance.now() - t0;
}

export const bench: Bench = async ({ quick }) => {
  const runs = quick ? 2 : 7;
  const idleMs = quick ? 1_000 : 5_000;
  const starts: number[] = [];
  const rss: number[] = [];
  const bare: number[] = [];
  let modules = '';
  for (let i = 0; i < runs; i++) {
    bare.push(await bareNode());
    const r = await oneStart(idleMs);
    starts.push(r.startMs);
    rss.push(r.rssMb);
    modules = r.modules;
  }
  const startMedian = median(starts);
  const rssMedian = median(rss);
  return {
    name: 'startup',
    figures: {
      runs,
      'process spawn → all modules started, median ms': round(startMedian, 0),
      'same, max ms': round(Math.max(...starts), 0),
      'bare node -e 0, median ms': round(median(bare), 0),
      'ratio agent start / bare node': round(startMedian / median(bare)),
      [`idle RSS after ${idleMs / 1000} s, median MB`]: round(rssMedian, 1),
    },
    targets: [
      { what: 'start to "all modules started" ≤ 1.5 s', met: startMedian <= 1500 },
      { what: 'idle RSS ≤ 80 MB', met: rssMedian <= 80 },
    ],
    notes: [`modules (every one enabled, no devices attached): ${modules}`, 'started through bin/praxisbox.js with its production V8 flags'],
  };
};
