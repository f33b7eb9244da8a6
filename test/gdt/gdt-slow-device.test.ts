import t from 'tap';
import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeGdt } from '../../agent/gdt/codec/index.js';
import { repoRoot } from '../helpers/fixtures.js';
import { startGdt, until, resultRecord, fakePdf } from './gdt-harness.js';

/**
 * A separate process plays the device and writes its files slowly, in pieces, straight to the
 * final name, while the box polls the folder (as on a network share). The box must take each file
 * exactly once and whole: never a prefix, never before the device is done.
 */
const child = path.join(repoRoot, 'test', 'gdt', 'slow-device-child.mjs');

interface Written {
  doneAt: number;
  pieces: number;
}

function slowWrite(target: string, source: string, pieces: number, pauseMs: number, split: 'bytes' | 'lines'): Promise<Written> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, target, source, String(pieces), String(pauseMs), split], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    proc.on('error', reject);
    proc.on('close', (code) => {
      if (code !== 0 || !out.includes('D\n')) reject(new Error(`device process ended with ${code}: ${out}`));
      else resolve({ doneAt: Date.now(), pieces: out.split('\n').filter((l) => l.startsWith('W ')).length });
    });
  });
}

/** A long result (many findings lines), so that pieces are many and each prefix is a plausible file. */
function longResult(patient: string, pdf?: string): Buffer {
  const record = resultRecord({ patient, ...(pdf !== undefined ? { attachments: [pdf] } : {}) });
  const findings = Array.from({ length: 40 }, (_, i) => ({ id: '6220', value: `Befundzeile ${i + 1}: ${'Messwert im Normbereich '.repeat(2)}` }));
  return writeGdt([{ fields: [...record.fields, ...findings] }], { charset: 'iso-8859-1' });
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

t.test('polling: a file written in 12 pieces with pauses shorter than the stability wait is taken once, whole', async (t) => {
  const h = await startGdt({ config: { watchMode: 'polling', pollIntervalMs: 100, stableMs: 500, incompleteWaitMs: 500, attachmentWaitMs: 1_000, devices: [{ id: 'ekg1' }] } });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const bytes = longResult('100');
  const source = path.join(h.stateDir, 'source.gdt');
  await fs.writeFile(source, bytes);
  const written = await slowWrite(path.join(dir, 'PRAXEKG.GDT'), source, 12, 150, 'bytes');
  t.equal(written.pieces, 12);
  await until('imported', async () => (await h.events('gdt.result')).length === 1);
  const event = (await h.events('gdt.result'))[0]!;
  t.equal((event.data as { sha256: string }).sha256, sha(bytes), 'the whole file, not a prefix');
  t.ok(Date.parse(event.ts) >= written.doneAt - 5, 'not before the device finished');
  t.equal((event.data as { warnings: unknown[] }).warnings.length, 0);
  await new Promise((r) => setTimeout(r, 700));
  t.equal((await h.events()).length, 1, 'once');
  const devices = (await h.run('gdt.devices.list', {})) as { devices: Array<{ watchMode: string }> };
  t.equal(devices.devices[0]?.watchMode, 'polling');
});

t.test('polling: pauses longer than the stability wait, cut at line ends — 8100 holds the file back', async (t) => {
  // stableMs 100 < pause 300: the size stands still long enough to look complete, and every prefix
  // parses; only the record size (8100) says more is coming.
  const h = await startGdt({ config: { watchMode: 'polling', pollIntervalMs: 100, stableMs: 100, incompleteWaitMs: 3_000, attachmentWaitMs: 1_000, devices: [{ id: 'ekg1' }] } });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const bytes = longResult('200');
  const source = path.join(h.stateDir, 'source.gdt');
  await fs.writeFile(source, bytes);
  const written = await slowWrite(path.join(dir, 'PRAXEKG.GDT'), source, 6, 300, 'lines');
  t.equal(written.pieces, 6);
  await until('imported', async () => (await h.events('gdt.result')).length === 1);
  const event = (await h.events('gdt.result'))[0]!;
  t.equal((event.data as { sha256: string }).sha256, sha(bytes), 'whole');
  t.equal((await h.events('gdt.rejected')).length, 0, 'never quarantined half-written');
});

t.test('polling: the PDF is written slowly after the GDT file — the result waits for it, whole', async (t) => {
  const h = await startGdt({
    config: { watchMode: 'polling', pollIntervalMs: 100, stableMs: 300, incompleteWaitMs: 500, attachmentWaitMs: 5_000, devices: [{ id: 'ekg1', pathMappings: [{ devicePrefix: 'C:\\GDT\\', localDir: 'ekg1' }] }] },
  });
  t.teardown(h.stop);
  const dir = path.join(h.root, 'ekg1');
  const pdf = fakePdf(400_000);
  const source = path.join(h.stateDir, 'source.pdf');
  await fs.writeFile(source, pdf);
  await fs.writeFile(path.join(dir, 'PRAXEKG.GDT'), longResult('300', 'C:\\GDT\\scan.pdf'));
  await new Promise((r) => setTimeout(r, 500));
  const written = await slowWrite(path.join(dir, 'scan.pdf'), source, 8, 150, 'bytes');
  await until('imported', async () => (await h.events('gdt.result')).length === 1, 8_000);
  const event = (await h.events('gdt.result'))[0]!;
  const att = (event.data as { attachments: Array<{ sha256?: string; size?: number }> }).attachments[0];
  t.match(att, { sha256: sha(pdf), size: pdf.length }, 'the whole PDF');
  t.ok(Date.parse(event.ts) >= written.doneAt - 5);
});
