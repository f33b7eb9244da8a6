import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { syncDir, writeFileDurable } from '../core/durable-file.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { isReleaseVersion } from './semver.js';

const run = promisify(execFile);

/** Where, inside a release, the update guard that `release pack` ships lives. */
export const GUARD_IN_RELEASE = path.join('agent', 'update', 'update-guard.mjs');

/**
 * The release tree of docs/appliance-layout.md: `releases/<version>/`, the `current` symlink and the
 * guard. Every change is crash-safe: unpack into `<version>.partial` and rename; switch by a new
 * symlink renamed over `current`; delete by renaming to `.deleting-*` first. The guard treats
 * dot-names and `.partial` as garbage, never as a release.
 */
export class ReleaseStore {
  readonly appDir: string;
  readonly releasesDir: string;
  readonly currentLink: string;
  readonly incomingDir: string;

  constructor(appDir: string) {
    this.appDir = appDir;
    this.releasesDir = path.join(appDir, 'releases');
    this.currentLink = path.join(appDir, 'current');
    this.incomingDir = path.join(appDir, 'incoming');
  }

  dir(version: string): string {
    if (!isReleaseVersion(version)) throw new PraxisboxError(ErrorCode.InvalidInput, 'not a release version');
    return path.join(this.releasesDir, version);
  }

  /** The version `current` points to, or undefined (no symlink, or it points outside releases/). */
  async currentTarget(): Promise<string | undefined> {
    try {
      const target = await fs.readlink(this.currentLink);
      const resolved = path.resolve(this.appDir, target);
      return path.dirname(resolved) === this.releasesDir ? path.basename(resolved) : undefined;
    } catch {
      return undefined;
    }
  }

  async list(): Promise<string[]> {
    const names = await fs.readdir(this.releasesDir).catch(() => [] as string[]);
    return names.filter(isReleaseVersion);
  }

  /** A release is complete when its entry point and package.json (with that version) are there. */
  async isComplete(version: string): Promise<boolean> {
    try {
      const dir = this.dir(version);
      await fs.access(path.join(dir, 'bin', 'praxisbox.js'));
      const pkg = JSON.parse(await fs.readFile(path.join(dir, 'package.json'), 'utf8')) as { version?: unknown };
      return pkg.version === version;
    } catch {
      return false;
    }
  }

  /**
   * Unpacks a (verified) tarball into `releases/<version>.partial`, checks it, makes it durable
   * (syncfs) and renames it to `releases/<version>`. An existing, non-current dir of that version is replaced.
   */
  async unpack(tarball: string, version: string, step: (name: string) => Promise<void>): Promise<void> {
    const target = this.dir(version);
    const partial = `${target}.partial`;
    await fs.mkdir(this.releasesDir, { recursive: true });
    await fs.rm(partial, { recursive: true, force: true });
    await fs.mkdir(partial, { recursive: true });
    try {
      await run('tar', ['-xzf', tarball, '-C', partial, '--no-same-owner', '--no-same-permissions'], { maxBuffer: 1024 * 1024 });
    } catch {
      await fs.rm(partial, { recursive: true, force: true });
      throw new PraxisboxError(ErrorCode.InvalidInput, 'the release tarball could not be unpacked');
    }
    await step('unpacked-partial');
    let pkgVersion: unknown;
    try {
      await fs.access(path.join(partial, 'bin', 'praxisbox.js'));
      pkgVersion = (JSON.parse(await fs.readFile(path.join(partial, 'package.json'), 'utf8')) as { version?: unknown }).version;
    } catch {
      pkgVersion = undefined;
    }
    if (pkgVersion !== version) {
      await fs.rm(partial, { recursive: true, force: true });
      throw new PraxisboxError(ErrorCode.InvalidInput, `the release tarball is not a complete release of ${version} (bin/praxisbox.js and package.json with that version)`);
    }
    // One syncfs for the whole tree instead of an fsync per file (node_modules has thousands).
    await run('sync', ['-f', partial]);
    if ((await this.currentTarget()) === version) throw new PraxisboxError(ErrorCode.CommandRejected, `${version} is the current release`);
    await this.remove(version);
    await fs.rename(partial, target);
    await syncDir(this.releasesDir);
  }

  /** Points `current` at `releases/<version>` atomically (a new symlink renamed over the old one). */
  async switchTo(version: string, step: (name: string) => Promise<void> = async () => undefined): Promise<void> {
    const tmp = path.join(this.appDir, `.current.${randomBytes(6).toString('hex')}`);
    await fs.symlink(path.join('releases', version), tmp);
    await step('symlink-created');
    await fs.rename(tmp, this.currentLink);
    await syncDir(this.appDir);
  }

  /** Deletes a release dir: renamed away first, so a half-deleted tree is never taken for a release. */
  async remove(version: string): Promise<void> {
    const dir = this.dir(version);
    const trash = path.join(this.releasesDir, `.deleting-${version}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.rename(dir, trash);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await syncDir(this.releasesDir);
    await fs.rm(trash, { recursive: true, force: true });
  }

  /** Removes what interrupted steps left behind: `.partial` dirs, `.deleting-*` dirs, stray symlinks, old uploads. */
  async cleanLeftovers(keepIncoming: ReadonlySet<string> = new Set()): Promise<void> {
    for (const name of await fs.readdir(this.releasesDir).catch(() => [] as string[])) {
      if (name.endsWith('.partial') || name.startsWith('.deleting-')) await fs.rm(path.join(this.releasesDir, name), { recursive: true, force: true });
    }
    for (const name of await fs.readdir(this.appDir).catch(() => [] as string[])) {
      if (name.startsWith('.current.')) await fs.rm(path.join(this.appDir, name), { force: true });
    }
    for (const name of await fs.readdir(this.incomingDir).catch(() => [] as string[])) {
      if (!keepIncoming.has(name)) await fs.rm(path.join(this.incomingDir, name), { force: true });
    }
  }

  /** Copies the guard of `version` to the app dir (durably), so the next start runs the newest guard. */
  async installGuard(version: string): Promise<boolean> {
    let text: Buffer;
    try {
      text = await fs.readFile(path.join(this.dir(version), GUARD_IN_RELEASE));
    } catch {
      return false;
    }
    await writeFileDurable(path.join(this.appDir, 'update-guard.mjs'), text, 0o644);
    return true;
  }
}
