import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from source; this file is test/helpers/fixtures.ts). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The shared sample data lives beside the repository (`../shared/fixtures`), read-only in CI.
 * `PRAXISBOX_FIXTURES` points elsewhere when needed.
 */
export const fixturesDir = process.env['PRAXISBOX_FIXTURES'] ?? path.resolve(repoRoot, '..', 'shared', 'fixtures');

export function fixture(...parts: string[]): string {
  return path.join(fixturesDir, ...parts);
}

/** A fresh temp dir; removed by the returned cleanup. Copy fixtures here before writing anything. */
export async function tempDir(prefix = 'praxisbox-test-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** Long mode (`npm run test:long`) runs the expensive variants (fuzzing with 100k+ cases, many crash iterations). */
export const longMode = process.env['PRAXISBOX_TEST_LONG'] === '1';
