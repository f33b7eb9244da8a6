import { crc32 } from 'node:zlib';

/**
 * On-disk framing of outbox records: u32 length (big-endian) | u32 CRC-32 of the payload | payload.
 * A frame whose header or payload is incomplete, or whose CRC does not match, marks the point
 * where a write was torn (or the disk lied); nothing after it in the same file is trusted.
 */
export const FRAME_HEADER_BYTES = 8;
/** One record may not exceed this (a chunked attachment is many records, not one). */
export const MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;

export function encodeFrame(payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  payload.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export interface ScannedFrame {
  /** Offset of the frame header within the scanned buffer. */
  offset: number;
  /** Total bytes of the frame (header + payload). */
  size: number;
  payload: Buffer;
}

export interface ScanResult {
  frames: ScannedFrame[];
  /** Offset just past the last good frame. */
  goodEnd: number;
  /** Set when bytes after `goodEnd` do not form a valid frame. */
  damage?: { offset: number; reason: string };
}

export function scanFrames(buf: Buffer, start = 0): ScanResult {
  const frames: ScannedFrame[] = [];
  let pos = start;
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER_BYTES) {
      return { frames, goodEnd: pos, damage: { offset: pos, reason: 'incomplete frame header' } };
    }
    const len = buf.readUInt32BE(pos);
    const crc = buf.readUInt32BE(pos + 4);
    if (len > MAX_FRAME_PAYLOAD) {
      return { frames, goodEnd: pos, damage: { offset: pos, reason: `frame length ${len} exceeds the limit` } };
    }
    if (buf.length - pos - FRAME_HEADER_BYTES < len) {
      return { frames, goodEnd: pos, damage: { offset: pos, reason: 'incomplete frame payload' } };
    }
    const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + len);
    if (crc32(payload) !== crc) {
      return { frames, goodEnd: pos, damage: { offset: pos, reason: 'checksum mismatch' } };
    }
    frames.push({ offset: pos, size: FRAME_HEADER_BYTES + len, payload });
    pos += FRAME_HEADER_BYTES + len;
  }
  return { frames, goodEnd: pos };
}
