import fs from 'node:fs/promises';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { generateReleaseKey, type Keyring } from '../../agent/update/release-manifest.js';
import { DIST_NOT_SHIPPED, packRelease, type PackResult } from '../../agent/update/release-pack.js';
import { ReleaseStore } from '../../agent/update/release-store.js';
import { repoRoot } from '../helpers/fixtures.js';

export const guardSource = path.join(repoRoot, 'agent', 'update', 'update-guard.mjs');

export interface TestKey {
  keyId: string;
  privateKeyPem: string;
  keyring: Keyring;
  keyringFile: string;
}

/** A fresh Ed25519 key pair for one test, with a keyring file for PRAXISBOX_UPDATE_KEYRING. */
export async function testKey(dir: string, keyId = 'test-key-1'): Promise<TestKey> {
  const { privateKeyPem, trusted } = generateReleaseKey(keyId);
  const keyring = { keys: [trusted] };
  const keyringFile = path.join(dir, `${keyId}.keyring.json`);
  await fs.writeFile(keyringFile, JSON.stringify(keyring));
  return { keyId, privateKeyPem, keyring, keyringFile };
}

async function withGuardAndPackage(dir: string, version: string, pkg: Record<string, unknown> = { name: 'praxisbox', type: 'module' }): Promise<void> {
  await fs.mkdir(path.join(dir, 'agent', 'update'), { recursive: true });
  await fs.copyFile(guardSource, path.join(dir, 'agent', 'update', 'update-guard.mjs'));
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ ...pkg, version }, null, 2));
}

/**
 * A tiny app tree whose `bin/praxisbox.js` prints its version for `--version` and, for `start`,
 * behaves as told: `crash` exits 1 at once, `run` keeps running until SIGTERM.
 */
export async function fakeReleaseTree(dir: string, version: string, onStart: 'crash' | 'run' = 'run'): Promise<string> {
  await fs.mkdir(path.join(dir, 'bin'), { recursive: true });
  await fs.mkdir(path.join(dir, 'dist'), { recursive: true });
  await fs.writeFile(path.join(dir, 'dist', 'marker.txt'), `release ${version}\n`);
  await fs.writeFile(
    path.join(dir, 'bin', 'praxisbox.js'),
    `#!/usr/bin/env node
if (process.argv[2] === '--version') { console.log(${JSON.stringify(version)}); process.exit(0); }
if (process.argv[2] === 'start') {
  ${onStart === 'crash' ? `console.error('fake release ${version}: crashing on start'); process.exit(1);` : `console.log('fake release ${version} running'); setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`}
}
`,
    { mode: 0o755 },
  );
  await withGuardAndPackage(dir, version);
  return dir;
}

/**
 * The real built agent as a release tree: bin/ and dist/ copied, package.json with `version`,
 * node_modules a symlink to the checkout's (so the tarball stays small; the release format and
 * every step of the update are the real ones). `patch` edits compiled files (a release with a bug).
 */
export async function realReleaseTree(dir: string, version: string, patch?: { file: string; from: string; to: string }): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  await fs.cp(path.join(repoRoot, 'bin'), path.join(dir, 'bin'), { recursive: true });
  // Everything the build emits that `release pack` ships: agent/, board/, …
  for (const part of await fs.readdir(path.join(repoRoot, 'dist'))) {
    if ((DIST_NOT_SHIPPED as readonly string[]).includes(part) || part.endsWith('.tsbuildinfo')) continue;
    await fs.cp(path.join(repoRoot, 'dist', part), path.join(dir, 'dist', part), { recursive: true, filter: (src) => !src.endsWith('.map') });
  }
  await fs.symlink(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
  const pkg = JSON.parse(await fs.readFile(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  await withGuardAndPackage(dir, version, { name: pkg['name'], type: pkg['type'], dependencies: pkg['dependencies'] });
  if (patch) {
    const file = path.join(dir, patch.file);
    const text = await fs.readFile(file, 'utf8');
    if (!text.includes(patch.from)) throw new Error(`patch target not found in ${patch.file}`);
    await fs.writeFile(file, text.replace(patch.from, patch.to));
  }
  return dir;
}

export async function pack(tree: string, outDir: string, key: TestKey, extra: { minVersion?: string } = {}): Promise<PackResult> {
  return packRelease({ from: tree, outDir, privateKeyPem: key.privateKeyPem, keyId: key.keyId, ...extra });
}

/** Installs a tree as `releases/<version>` (copy) and, with `current`, points `current` at it and installs the guard. */
export async function install(appDir: string, tree: string, version: string, current = false): Promise<void> {
  const store = new ReleaseStore(appDir);
  await fs.mkdir(store.releasesDir, { recursive: true });
  await fs.cp(tree, store.dir(version), { recursive: true, verbatimSymlinks: true });
  if (current) {
    await store.switchTo(version);
    await fs.copyFile(guardSource, path.join(appDir, 'update-guard.mjs'));
  }
}

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment for child processes: without tap's coverage hooks (NODE_OPTIONS), which only slow them down. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'NODE_OPTIONS') env[k] = v;
  return { ...env, ...extra };
}

export function runNode(args: string[], env: Record<string, string> = {}, timeoutMs = 20_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the installed guard as systemd's ExecStartPre does. */
export function runGuard(appDir: string, dataDir: string): Promise<Ran> {
  return runNode([path.join(appDir, 'update-guard.mjs')], { PRAXISBOX_APP_DIR: appDir, PRAXISBOX_DATA_DIR: dataDir });
}

/** What `current` runs: `node current/bin/praxisbox.js --version`. */
export async function currentVersion(appDir: string): Promise<string | undefined> {
  const r = await runNode([path.join(appDir, 'current', 'bin', 'praxisbox.js'), '--version']);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Every file path (and symlink target) under a dir: a cheap "nothing changed" check. */
/** Runs `jobs` with at most `limit` at once. */
export async function inParallel<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array<T>(jobs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await (jobs[i] as () => Promise<T>)();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

export async function treeListing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name);
      if (e.isSymbolicLink()) out.push(`${path.relative(dir, p)} -> ${await fs.readlink(p)}`);
      else if (e.isDirectory()) {
        out.push(`${path.relative(dir, p)}/`);
        await walk(p);
      } else out.push(path.relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}
