import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './bench-result.js';

/**
 * Runs every `bench/*.ts` module that exports `bench` (compiled to dist/bench), or only those named
 * on the command line, and prints their figures. `--quick` shortens runs (for smoke checks);
 * `--json FILE` also writes the results. Exits 1 when a module throws (not when a target is missed:
 * targets are reported, and judged in the issue notes against a noisy shared machine).
 */
async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const jsonAt = argv.indexOf('--json');
  const jsonFile = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  const names = argv.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const files = (await fs.readdir(here)).filter((f) => f.endsWith('.js') && !['run.js', 'bench-result.js'].includes(f) && !f.includes('-support'));
  const selected = names.length > 0 ? files.filter((f) => names.includes(f.replace(/\.js$/, ''))) : files;
  const results: BenchResult[] = [];
  let failed = false;
  for (const file of selected.sort()) {
    const mod = (await import(pathToFileURL(path.join(here, file)).href)) as { bench?: Bench };
    if (typeof mod.bench !== 'function') continue;
    process.stdout.write(`\n== ${file.replace(/\.js$/, '')} ==\n`);
    try {
      const result = await mod.bench({ quick });
      results.push(result);
      for (const [k, v] of Object.entries(result.figures)) process.stdout.write(`  ${k.padEnd(42)} ${v}\n`);
      for (const t of result.targets) process.stdout.write(`  target ${t.met ? 'MET   ' : 'MISSED'} ${t.what}\n`);
      for (const n of result.notes ?? []) process.stdout.write(`  note: ${n}\n`);
    } catch (err) {
      failed = true;
      process.stdout.write(`  FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
  }
  if (jsonFile) await fs.writeFile(jsonFile, JSON.stringify(results, null, 2));
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
