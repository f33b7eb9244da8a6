import fs from 'node:fs/promises';
import path from 'node:path';
import { syncDir, writeFileDurable } from '../core/durable-file.js';
import { expiredNames } from './import-plan.js';
import { sameStat, type FileStat } from './file-stability.js';

/**
 * Moving device files into archive/ and quarantine/ (and back, for a re-import). A rename within
 * the result folder's file system is atomic; a mapped attachment folder may sit on another one,
 * where the move is copy + fsync + unlink (a crash in between leaves the copy and the original: the
 * original is moved again at the next start, over the copy).
 */
export async function moveFile(from: string, to: string): Promise<void> {
  await fs.mkdir(path.dirname(to), { recursive: true });
  try {
    await fs.rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await fs.copyFile(from, to);
    const fh = await fs.open(to, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await syncDir(path.dirname(to));
    await fs.unlink(from);
    await syncDir(path.dirname(from));
    return;
  }
  await syncDir(path.dirname(to));
  if (path.dirname(to) !== path.dirname(from)) await syncDir(path.dirname(from));
}

/** Moves `from` if it is still there; false when it is already gone (a finished earlier move). */
export async function moveIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await moveFile(from, to);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Moves `from` only while it is still the file that was read (same inode, size, mtime): a device
 * that (against the rules) wrote a new file under a fixed name meanwhile keeps its new file, which
 * is then taken in on its own. False when it is gone or another file.
 */
export async function moveIfSame(from: string, to: string, expected: FileStat): Promise<boolean> {
  try {
    const st = await fs.lstat(from);
    if (!sameStat({ size: st.size, mtimeMs: st.mtimeMs, ino: st.ino }, expected)) return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  return moveIfPresent(from, to);
}

/** Puts a rejected file into quarantine/ beside a `.reason.txt` (written first, so a file there always has its reason). */
export async function quarantineFile(from: string, quarantineDir: string, name: string, reason: string): Promise<boolean> {
  await fs.mkdir(quarantineDir, { recursive: true });
  await writeFileDurable(path.join(quarantineDir, `${name}.reason.txt`), reason, 0o644);
  return moveIfPresent(from, path.join(quarantineDir, name));
}

/** Deletes archive or quarantine entries older than the retention; returns how many went. */
export async function sweepExpired(dir: string, now: number, retentionDays: number): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of expiredNames(names, now, retentionDays)) {
    try {
      await fs.rm(path.join(dir, name), { force: true });
      removed += 1;
    } catch {
      // Retried at the next sweep.
    }
  }
  return removed;
}
