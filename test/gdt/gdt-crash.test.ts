import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import { systemClock } from '../../agent/core/clock.js';
import { HashRegistry } from '../../agent/gdt/hash-registry.js';
import { tempDir, repoRoot, longMode } from '../helpers/fixtures.js';
import { captureLog } from '../helpers/quiet-log.js';
import { resultBytes, fakePdf } from './gdt-harness.js';

/**
 * kill -9 at random moments while a whole agent (from dist/) imports result files with PDFs. After
 * the last start lets it finish, every file must have given exactly one `gdt.result` (nothing is
 * acknowledged, so the outbox holds them all), every file and PDF must be in archive/, nothing in
 * quarantine/, and no registry entry may be left pending.
 */
const ITERATIONS = longMode ? 60 : 12;
const FILES_PER_ROUND = 4;
const child = path.join(repoRoot, 'test', 'gdt', 'gdt-crash-child.mjs');

type Mode = 'random' | 'before-append' | 'after-append' | 'after-append-soon';
const MODES: Mode[] = ['before-append', 'after-append', 'after-append-soon', 'random'];

function runChild(dataDir: string, mode: Mode, killAfterMs: number | undefined, until?: () => Promise<boolean>): Promise<{ appended: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, dataDir, mode, String(1 + Math.floor(Math.random() * 3))], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const deadline = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (timer !== undefined || !out.includes('S\n')) return;
      if (killAfterMs !== undefined) timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
      else {
        const poll = async (): Promise<void> => {
          if (until !== undefined && (await until())) proc.kill('SIGKILL');
          else timer = setTimeout(() => void poll(), 50);
        };
        timer = setTimeout(() => void poll(), 50);
      }
    });
    proc.on('error', reject);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      if (signal !== 'SIGKILL') reject(new Error(`agent ended by itself (code ${code}):\n${stderr}`));
      else resolve({ appended: out.split('\n').filter((l) => l.startsWith('A ') && l.endsWith('gdt.result')).length, stderr });
    });
  });
}

t.test(`GDT import survives ${ITERATIONS} kill -9 at random moments: each file once, nothing lost`, async (t) => {
  const { dir, cleanup } = await tempDir('praxisbox-gdt-crash-');
  t.teardown(cleanup);
  const folder = path.join(dir, 'gdt', 'ekg1');
  await fs.mkdir(folder, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'config.json'),
    JSON.stringify({ gdt: { stableMs: 20, pollIntervalMs: 100, devices: [{ id: 'ekg1', pathMappings: [{ devicePrefix: 'C:\\GDT\\', localDir: 'ekg1' }] }] } }),
  );
  const expected = new Map<string, Buffer>(); // sha256 of the GDT file → its PDF
  let n = 0;
  const addFiles = async (): Promise<void> => {
    for (let i = 0; i < FILES_PER_ROUND; i++, n++) {
      const pdf = fakePdf(100_000 + n);
      await fs.writeFile(path.join(folder, `r${n}.pdf`), pdf);
      const bytes = resultBytes({ patient: String(1000 + n), attachments: [`C:\\GDT\\r${n}.pdf`] });
      await fs.writeFile(path.join(folder, `.R${n}.tmp`), bytes);
      await fs.rename(path.join(folder, `.R${n}.tmp`), path.join(folder, `R${String(n).padStart(3, '0')}.GDT`));
      expected.set(createHash('sha256').update(bytes).digest('hex'), pdf);
    }
  };
  let appendedBeforeKill = 0;
  const logs: string[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    await addFiles();
    // Self-kill modes die at an exact step; should they find nothing to import, the parent kills after 3 s.
    const mode = MODES[i % MODES.length] as Mode;
    const run = await runChild(dir, mode, mode === 'random' ? Math.floor(Math.random() * 250) : 3_000);
    appendedBeforeKill += run.appended;
    logs.push(run.stderr);
  }
  const folderDone = async (): Promise<boolean> => (await fs.readdir(folder)).sort().join() === 'archive,quarantine';
  const last = await runChild(dir, 'random', undefined, folderDone);
  t.ok(appendedBeforeKill > 0, `kills landed while imports ran (${appendedBeforeKill} events before the last start)`);
  const all = [...logs, last.stderr].join('');
  const count = (re: RegExp): number => all.match(re)?.length ?? 0;
  // Each self-kill mode runs ITERATIONS/4 times and dies at an exact step; the next start must have found it.
  t.ok(count(/event not-appended/g) >= ITERATIONS / 4, 'killed between "pending" and the append: found and redone');
  t.ok(count(/event appended/g) >= ITERATIONS / 4, 'killed between the append and "done": found in the outbox, not sent again');
  t.comment(
    `restarts found: ${count(/event appended/g)} pending-and-appended, ${count(/event not-appended/g)} pending-not-appended, ` +
      `${count(/move to archive finished/g)} moves finished, ${count(/event unknown/g)} undecidable`,
  );

  const box = await FileOutbox.open({ dir: path.join(dir, 'outbox'), maxBytes: 1 << 30, segmentBytes: 8 << 20, clock: systemClock, log: captureLog('error').log });
  t.teardown(() => box.close());
  const events = (await box.pending(0, 100_000)).filter((e) => e.type === 'gdt.result');
  const bySha = new Map<string, number>();
  for (const e of events) {
    const data = e.data as { sha256: string; attachments: Array<{ file: { content?: string } }> };
    bySha.set(data.sha256, (bySha.get(data.sha256) ?? 0) + 1);
    const pdf = expected.get(data.sha256);
    if (pdf === undefined) t.fail('an event for a file nobody wrote');
    else if (!Buffer.from(data.attachments[0]?.file.content ?? '', 'base64').equals(pdf)) t.fail('PDF differs');
  }
  const twice = [...bySha.values()].filter((c) => c > 1).length;
  const missing = [...expected.keys()].filter((s) => !bySha.has(s)).length;
  t.equal(missing, 0, `no file lost (${expected.size} files, ${events.length} events)`);
  t.equal(twice, 0, 'no file imported twice');
  t.equal(events.length, expected.size);
  const archive = await fs.readdir(path.join(folder, 'archive'));
  t.equal(archive.filter((f) => f.endsWith('.GDT')).length, expected.size, 'every result file archived');
  t.equal(archive.filter((f) => f.endsWith('.pdf')).length, expected.size, 'every PDF archived');
  t.equal(archive.filter((f) => f.includes('-dup-')).length, 0);
  t.same(await fs.readdir(path.join(folder, 'quarantine')), []);
  const registry = await HashRegistry.open({ file: path.join(dir, 'gdt-state', 'registry.jsonl'), log: captureLog('error').log, now: () => Date.now() });
  t.same(registry.forDevice('ekg1').filter((e) => e.state !== 'done').map((e) => e.file), [], 'no entry left pending');
  t.equal(registry.size, expected.size);
  await registry.close();
  t.notMatch(all, /could not be taken in/, 'no import failed');
});
