import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { syncDir } from '../core/durable-file.js';

/**
 * A segment file: a 16-byte header ("PBXO", format version, first seq it may hold) followed by
 * frames. Segments are created complete (temp file + fsync + rename), so a segment that exists
 * always has a whole header; only its tail can be torn.
 */
export const SEGMENT_HEADER_BYTES = 16;
const MAGIC = 'PBXO';
const FORMAT_VERSION = 1;
const NAME_PATTERN = /^seg-(\d{20})\.log$/;

export interface Segment {
  base: number;
  file: string;
  fh: FileHandle;
  /** Bytes in the file, header included. */
  size: number;
  /** Highest seq stored in it, or base - 1 when empty. */
  lastSeq: number;
  unacked: number;
}

export function segmentName(base: number): string {
  return `seg-${String(base).padStart(20, '0')}.log`;
}

export function parseSegmentName(name: string): number | undefined {
  const m = NAME_PATTERN.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function encodeHeader(base: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32BE(FORMAT_VERSION, 4);
  header.writeBigUInt64BE(BigInt(base), 8);
  return header;
}

/** Returns the base seq from a header, or a reason why it is not one of ours. */
export function decodeHeader(buf: Buffer): { base: number } | { problem: string } {
  if (buf.length < SEGMENT_HEADER_BYTES) return { problem: 'segment header incomplete' };
  if (buf.toString('latin1', 0, 4) !== MAGIC) return { problem: 'not an outbox segment (bad magic)' };
  const version = buf.readUInt32BE(4);
  if (version !== FORMAT_VERSION) return { problem: `unsupported segment format ${version}` };
  return { base: Number(buf.readBigUInt64BE(8)) };
}

export async function createSegment(dir: string, base: number): Promise<Segment> {
  const file = path.join(dir, segmentName(base));
  const tmp = `${file}.tmp`;
  await fs.rm(tmp, { force: true });
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.write(encodeHeader(base), 0, SEGMENT_HEADER_BYTES, 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  await syncDir(dir);
  return { base, file, fh: await fs.open(file, 'r+'), size: SEGMENT_HEADER_BYTES, lastSeq: base - 1, unacked: 0 };
}
