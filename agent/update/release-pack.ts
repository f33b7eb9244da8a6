import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { signManifest, type SignedManifest } from './release-manifest.js';
import { GUARD_IN_RELEASE } from './release-store.js';
import { isReleaseVersion } from './semver.js';

const run = promisify(execFile);

/** What a release tarball holds (relative to the app root); the optional ones are packed when present. */
const REQUIRED = ['bin', 'dist', 'package.json', GUARD_IN_RELEASE];
const OPTIONAL = ['node_modules', path.join('web-ui', 'dist')];
/** Parts of the build output that are not the product (compiled tests and benchmarks). */
export const DIST_NOT_SHIPPED = ['test', 'bench'] as const;

export interface PackResult {
  version: string;
  tarball: string;
  sigFile: string;
  manifest: SignedManifest;
}

/**
 * Vendor side: packs a built app tree (`npm ci --omit=dev && npm run build` output) into
 * `praxisbox-<version>.tar.gz` and writes the signed manifest `praxisbox-<version>.tar.gz.sig.json`.
 */
export async function packRelease(opts: { from: string; outDir: string; privateKeyPem: string; keyId: string; minVersion?: string }): Promise<PackResult> {
  let version: unknown;
  try {
    version = (JSON.parse(await fs.readFile(path.join(opts.from, 'package.json'), 'utf8')) as { version?: unknown }).version;
  } catch {
    throw new PraxisboxError(ErrorCode.InvalidInput, 'no readable package.json in the app tree');
  }
  if (typeof version !== 'string' || !isReleaseVersion(version)) throw new PraxisboxError(ErrorCode.InvalidInput, 'package.json version is not MAJOR.MINOR.PATCH');
  for (const entry of REQUIRED) {
    await fs.access(path.join(opts.from, entry)).catch(() => {
      throw new PraxisboxError(ErrorCode.InvalidInput, `the app tree lacks ${entry} (build it first)`);
    });
  }
  const entries = [...REQUIRED];
  for (const entry of OPTIONAL) if (await fs.access(path.join(opts.from, entry)).then(() => true, () => false)) entries.push(entry);
  await fs.mkdir(opts.outDir, { recursive: true });
  const tarball = path.join(opts.outDir, `praxisbox-${version}.tar.gz`);
  await run(
    'tar',
    ['-czf', tarball, '-C', opts.from, '--owner=0', '--group=0', '--numeric-owner', '--sort=name', ...DIST_NOT_SHIPPED.map((d) => `--exclude=dist/${d}`), '--exclude=*.tsbuildinfo', ...entries],
    { maxBuffer: 1024 * 1024 },
  );
  const bytes = await fs.readFile(tarball);
  const manifest = signManifest(
    { keyId: opts.keyId, version, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, ...(opts.minVersion ? { minVersion: opts.minVersion } : {}) },
    opts.privateKeyPem,
  );
  const sigFile = `${tarball}.sig.json`;
  await fs.writeFile(sigFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return { version, tarball, sigFile, manifest };
}
