import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { startIppPrinter } from '../helpers/ipp-printer.js';
import { longMode, repoRoot, tempDir } from '../helpers/fixtures.js';
import { pdfWithPages, writeLargePdf } from '../helpers/test-pdf.js';
import type { PrintJobRecord } from '../../agent/printing/print-job.js';
import { onLines } from '../helpers/child-lines.js';

/**
 * kill -9 of a whole agent (from dist/) at random moments while it accepts and prints jobs —
 * during the base64 decode, the spool write, the upload, the follow-up. After the last restart
 * every job that was ever accepted ends `completed` and reached the printer exactly once.
 */
const ITERATIONS = longMode ? 30 : 5;
const child = path.join(repoRoot, 'test', 'printing', 'print-crash-child.mjs');

interface Run {
  accepted: string[];
}

function runChild(dataDir: string, docs: string, produce: number, killAfterMs: number | undefined): Promise<Run & { proc: ReturnType<typeof spawn> }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dataDir, docs, String(produce)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const run = { accepted: [] as string[], proc };
    let timer: NodeJS.Timeout | undefined;
    onLines(proc.stdout, (line) => {
      if (line === 'S') {
        if (killAfterMs === undefined) resolve(run);
        else timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      } else if (line.startsWith('A ')) run.accepted.push(line.slice(2));
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      if (killAfterMs === undefined) return;
      if (signal !== 'SIGKILL') reject(new Error(`child ended by itself (code ${code}, signal ${signal})`));
      else resolve(run);
    });
  });
}

async function records(dir: string): Promise<PrintJobRecord[]> {
  const jobsDir = path.join(dir, 'printing', 'jobs');
  const names = await fs.readdir(jobsDir).catch(() => [] as string[]);
  const out: PrintJobRecord[] = [];
  for (const n of names.filter((x) => x.endsWith('.json'))) out.push(JSON.parse(await fs.readFile(path.join(jobsDir, n), 'utf8')) as PrintJobRecord);
  return out;
}

t.test(`agent killed ${ITERATIONS} times mid-queue: every accepted job prints exactly once`, async (t) => {
  try {
    await fs.access(path.join(repoRoot, 'dist', 'agent', 'printing', 'print-queue.js'));
  } catch {
    t.fail('dist/ is missing the printing module: run `npm run build` first (npm test does)');
    return;
  }
  const printer = await startIppPrinter({ name: 'Crash Printer' });
  t.teardown(() => printer.stop());
  const { dir, cleanup } = await tempDir('praxisbox-print-crash-');
  t.teardown(cleanup);
  await fs.writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ printing: { printers: [{ id: 'p', uri: printer.uri }], documentTypes: { au: { printer: 'p', tray: 'main' } }, queue: { pollMs: 50, retryBaseMs: 100, retryMaxMs: 300 } } }),
  );
  // A small and a 3 MB document: kills land in decoding, spooling and uploading as well as in following.
  const small = path.join(dir, 'small.pdf');
  const large = path.join(dir, 'large.pdf');
  await fs.writeFile(small, pdfWithPages(2));
  await writeLargePdf(large, 3 * 1024 * 1024);
  const docs = `${small},${large}`;

  const accepted = new Set<string>();
  for (let i = 0; i < ITERATIONS; i++) {
    const run = await runChild(dir, docs, 4, 30 + Math.floor(Math.random() * 500));
    for (const id of run.accepted) accepted.add(id);
  }
  const last = await runChild(dir, docs, 0, undefined);
  t.teardown(() => last.proc.kill('SIGKILL'));
  const deadline = Date.now() + 30_000;
  let all = await records(dir);
  while (all.some((r) => !['completed', 'failed', 'canceled'].includes(r.state)) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    all = await records(dir);
  }
  t.ok(accepted.size >= ITERATIONS, `${accepted.size} jobs acknowledged as accepted, ${all.length} on disk`);
  const byId = new Map(all.map((r) => [r.id, r]));
  t.same([...accepted].filter((id) => !byId.has(id)), [], 'no accepted job lost');
  t.same(all.filter((r) => r.state !== 'completed').map((r) => `${r.id}: ${r.state} ${r.reason ?? ''}`), [], 'every job completed');

  const printed = new Map<string, number>();
  for (const name of (await fs.readdir(printer.jobsDir)).filter((n) => n.endsWith('.env'))) {
    const marker = /^IPP_JOB_NAME=(PBX-[0-9A-Z]{8})/m.exec(await fs.readFile(path.join(printer.jobsDir, name), 'utf8'))?.[1];
    if (marker) printed.set(marker, (printed.get(marker) ?? 0) + 1);
  }
  t.same(all.filter((r) => printed.get(r.marker) !== 1).map((r) => `${r.id} printed ${printed.get(r.marker) ?? 0}×`), [], 'each exactly once');
  // The spool file goes right after the terminal record is durable: give that a moment.
  let left = await fs.readdir(path.join(dir, 'spool', 'print'));
  for (let i = 0; i < 20 && left.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 50));
    left = await fs.readdir(path.join(dir, 'spool', 'print'));
  }
  t.same(left.map((f) => `${f}: ${JSON.stringify(byId.get(f.slice(0, 26)) ?? 'no record')}`), [], 'no spool file left');
  t.comment(`${all.length} jobs; ${all.filter((r) => r.attempts > 1).length} needed more than one Print-Job (busy, or resent after a lookup found nothing)`);
});
