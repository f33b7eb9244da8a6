import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import type { ReleaseManifest } from './release-manifest.js';

/** Where a release tarball comes from: a URL, the command itself (base64, chunked by MQTT), or an upload made piece by piece. */
export type ReleaseSource = { url: string } | { data: string } | { upload: string };

export const UPLOAD_ID = '^[A-Za-z0-9_-]{8,64}$';
const UPLOAD_RE = new RegExp(UPLOAD_ID);

const rejected = (msg: string): PraxisboxError => new PraxisboxError(ErrorCode.CommandRejected, msg);

/** https anywhere; plain http only to the loopback interface (tests, a local mirror). */
export function checkDownloadUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new PraxisboxError(ErrorCode.InvalidInput, 'url is not a URL');
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopback)) return url;
  throw new PraxisboxError(ErrorCode.InvalidInput, 'url must be https (plain http only to localhost)');
}

function checkDigest(bytes: number, sha256: string, m: ReleaseManifest): void {
  if (bytes !== m.size) throw rejected(`release tarball has ${bytes} bytes, the signed manifest says ${m.size}`);
  if (sha256 !== m.sha256) throw rejected('release tarball does not match the SHA-256 in the signed manifest');
}

export function uploadPath(incomingDir: string, uploadId: string): string {
  if (!UPLOAD_RE.test(uploadId)) throw new PraxisboxError(ErrorCode.InvalidInput, 'upload id must be 8-64 letters, digits, _ or -');
  return path.join(incomingDir, `${uploadId}.upload`);
}

/** Appends one piece of an upload at `offset` (a repeated piece at the same offset is accepted again). */
export async function appendUpload(incomingDir: string, uploadId: string, offset: number, data: Buffer, maxBytes: number): Promise<number> {
  const file = uploadPath(incomingDir, uploadId);
  await fs.mkdir(incomingDir, { recursive: true, mode: 0o700 });
  const size = await fs.stat(file).then((s) => s.size, () => 0);
  if (offset > size) throw new PraxisboxError(ErrorCode.InvalidInput, `upload ${uploadId} has ${size} bytes; a piece at offset ${offset} leaves a gap`);
  if (offset + data.length > maxBytes) throw rejected(`upload exceeds update.maxDownloadBytes (${maxBytes})`);
  const fh = await fs.open(file, size === 0 ? 'w' : 'r+', 0o600);
  try {
    await fh.truncate(offset);
    await fh.write(data, 0, data.length, offset);
  } finally {
    await fh.close();
  }
  return offset + data.length;
}

export interface FetchDeps {
  fetch: typeof fetch;
  maxBytes: number;
  timeoutMs: number;
  onProgress: (received: number) => void;
  signal?: AbortSignal;
}

/** Brings the tarball to `dest` and checks its size and SHA-256 against the signed manifest. */
export async function obtainTarball(source: ReleaseSource, m: ReleaseManifest, incomingDir: string, dest: string, deps: FetchDeps): Promise<void> {
  if (m.size > deps.maxBytes) throw rejected(`release of ${m.size} bytes exceeds update.maxDownloadBytes (${deps.maxBytes})`);
  await fs.mkdir(incomingDir, { recursive: true, mode: 0o700 });
  if ('data' in source) {
    const bytes = Buffer.from(source.data, 'base64');
    checkDigest(bytes.length, createHash('sha256').update(bytes).digest('hex'), m);
    await fs.writeFile(dest, bytes, { mode: 0o600 });
    return;
  }
  if ('upload' in source) {
    const file = uploadPath(incomingDir, source.upload);
    const bytes = await fs.readFile(file).catch(() => {
      throw new PraxisboxError(ErrorCode.NotFound, `no upload ${source.upload}`);
    });
    checkDigest(bytes.length, createHash('sha256').update(bytes).digest('hex'), m);
    await fs.rename(file, dest);
    return;
  }
  await download(checkDownloadUrl(source.url), m, dest, deps);
}

async function download(url: URL, m: ReleaseManifest, dest: string, deps: FetchDeps): Promise<void> {
  const signal = AbortSignal.any([AbortSignal.timeout(deps.timeoutMs), ...(deps.signal ? [deps.signal] : [])]);
  let res: Response;
  try {
    res = await deps.fetch(url, { signal, redirect: 'error' });
  } catch {
    throw new PraxisboxError(ErrorCode.DeviceUnavailable, `download of the release failed (${url.host})`);
  }
  if (!res.ok || !res.body) throw new PraxisboxError(ErrorCode.DeviceUnavailable, `download of the release failed: HTTP ${res.status}`);
  const hash = createHash('sha256');
  const fh = await fs.open(dest, 'w', 0o600);
  let received = 0;
  let lastReport = 0;
  try {
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += piece.length;
      if (received > m.size) throw rejected(`download is larger than the ${m.size} bytes of the signed manifest`);
      hash.update(piece);
      await fh.write(piece);
      if (received - lastReport >= m.size / 10) {
        lastReport = received;
        deps.onProgress(received);
      }
    }
  } catch (err) {
    if (err instanceof PraxisboxError) throw err;
    throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'download of the release was interrupted');
  } finally {
    await fh.close();
  }
  checkDigest(received, hash.digest('hex'), m);
}
