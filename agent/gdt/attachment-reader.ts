import fs from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { isInside } from './device-layout.js';
import type { FileStat } from './file-stability.js';

/**
 * Reads a file a result references (6305), confined to the device's folders. The name was already
 * checked (path-mapping.ts); here the *real* path counts: realpath before opening (a symlink that
 * leads out is refused), O_NOFOLLOW|O_NONBLOCK on open (no last-moment symlink, no hanging on a
 * FIFO), and the opened descriptor's own path from /proc checked again — so swapping a folder for a
 * symlink between the check and the open does not help either. Size-capped before reading.
 */
export type AttachmentRead =
  | { ok: true; realPath: string; stat: FileStat; size: number; sha256: string; content: Buffer }
  | { ok: false; code: AttachmentProblem; message: string; size?: number; stat?: FileStat };

export type AttachmentProblem = 'attachment-missing' | 'attachment-refused' | 'attachment-too-large' | 'attachment-unreadable';

/** Realpaths of the folders attachments may come from; folders that do not exist are left out. */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const root of roots) {
    try {
      out.push(await fs.realpath(root));
    } catch {
      // A missing mapping folder only means its attachments are reported missing.
    }
  }
  return [...new Set(out)];
}

export async function readAttachment(localPath: string, roots: readonly string[], maxBytes: number): Promise<AttachmentRead> {
  let real: string;
  try {
    real = await fs.realpath(localPath);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, code: 'attachment-missing', message: 'the referenced attachment does not exist (yet)' };
    if (code === 'ELOOP') return { ok: false, code: 'attachment-refused', message: 'the referenced attachment is a symlink loop' };
    return { ok: false, code: 'attachment-unreadable', message: `the referenced attachment cannot be resolved (${code ?? 'error'})` };
  }
  if (!roots.some((r) => isInside(r, real))) return { ok: false, code: 'attachment-refused', message: 'the referenced attachment resolves outside the device folders (symlink)' };
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, code: 'attachment-missing', message: 'the referenced attachment vanished while being opened' };
    if (code === 'ELOOP') return { ok: false, code: 'attachment-refused', message: 'the referenced attachment became a symlink' };
    return { ok: false, code: 'attachment-unreadable', message: `the referenced attachment cannot be opened (${code ?? 'error'})` };
  }
  try {
    const st = await fh.stat();
    const stat: FileStat = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    if (!st.isFile()) return { ok: false, code: 'attachment-refused', message: 'the referenced attachment is not a regular file' };
    const opened = await openedPath(fh.fd);
    if (opened !== undefined && !roots.some((r) => isInside(r, opened))) {
      return { ok: false, code: 'attachment-refused', message: 'the referenced attachment resolves outside the device folders' };
    }
    if (st.size > maxBytes) {
      return { ok: false, code: 'attachment-too-large', message: `the attachment is ${st.size} bytes; the limit is ${maxBytes}`, size: st.size, stat };
    }
    const content = await readExactly(fh, st.size, maxBytes);
    if (content === undefined) return { ok: false, code: 'attachment-too-large', message: `the attachment grew past the limit of ${maxBytes} bytes while being read`, stat };
    return { ok: true, realPath: opened ?? real, stat, size: content.length, sha256: createHash('sha256').update(content).digest('hex'), content };
  } finally {
    await fh.close();
  }
}

/** Where an open descriptor really points (Linux /proc); undefined where /proc is not mounted. */
async function openedPath(fd: number): Promise<string | undefined> {
  try {
    return await fs.readlink(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** Reads to EOF but never more than `limit` bytes (the file may still grow). */
export async function readExactly(fh: fs.FileHandle, expected: number, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  const size = Math.max(64 * 1024, Math.min(expected + 1, 4 * 1024 * 1024));
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const { bytesRead } = await fh.read(buf, 0, size, total);
    if (bytesRead === 0) break;
    total += bytesRead;
    if (total > limit) return undefined;
    chunks.push(buf.subarray(0, bytesRead));
  }
  return Buffer.concat(chunks, total);
}
