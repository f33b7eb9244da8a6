#!/usr/bin/env node
// Installs the Debian packages the tests use as real peers (listed in debian-packages.txt) when
// any is missing. Runs as part of `npm test`; idempotent and quick when everything is present.
// Without root it only reports what is missing, and the tests that need a missing peer fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const listFile = fileURLToPath(new URL('./debian-packages.txt', import.meta.url));
const wanted = readFileSync(listFile, 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter(Boolean);

function installed(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

const hasDpkg = spawnSync('dpkg-query', ['--version']).status === 0;
if (!hasDpkg) {
  console.error('setup-test-peers: not a Debian system; install these packages yourself: ' + wanted.join(' '));
  process.exit(0);
}
const missing = wanted.filter((p) => !installed(p));
if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0) {
  console.error(`setup-test-peers: missing Debian packages (run as root to install): ${missing.join(' ')}`);
  process.exit(0);
}
console.error(`setup-test-peers: installing ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const opts = { stdio: ['ignore', 'inherit', 'inherit'], env };
try {
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], opts);
} catch {
  // The package lists of a fresh machine are empty: update once, then try again.
  execFileSync('apt-get', ['update'], opts);
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing], opts);
}
