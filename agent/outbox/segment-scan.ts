import { scanFrames, FRAME_HEADER_BYTES } from './frame.js';
import { SEGMENT_HEADER_BYTES } from './segment.js';

/** One intact outbox record found in a segment file. */
export interface ScannedRecord {
  seq: number;
  id: string;
  type: string;
  ts: string;
  /** Offset of the JSON payload (after the frame header) in the file. */
  offset: number;
  length: number;
}

export interface SegmentScan {
  records: ScannedRecord[];
  /** Highest seq in the segment, or `base - 1` when it holds none. */
  lastSeq: number;
  /** Bytes up to the end of the last trusted record. */
  goodEnd: number;
  /** Why the bytes after `goodEnd` are not trusted, when there are any. */
  damage?: string;
}

/**
 * Reads the records of one segment (pure): frames must be intact, parse as outbox envelopes and
 * carry increasing seqs not below the segment's base nor at or below `previousLastSeq` (the last
 * seq of the segments before it). The first record that breaks a rule ends the trusted part.
 */
export function scanSegmentRecords(buf: Buffer, base: number, previousLastSeq: number): SegmentScan {
  const scan = scanFrames(buf, SEGMENT_HEADER_BYTES);
  const records: ScannedRecord[] = [];
  let lastSeq = base - 1;
  for (const frame of scan.frames) {
    const meta = parseMeta(frame.payload);
    if (!meta || meta.seq < base || meta.seq <= Math.max(lastSeq, previousLastSeq)) {
      return { records, lastSeq, goodEnd: frame.offset, damage: meta ? 'seq out of order' : 'record is not an outbox event' };
    }
    lastSeq = meta.seq;
    records.push({ ...meta, offset: frame.offset + FRAME_HEADER_BYTES, length: frame.size - FRAME_HEADER_BYTES });
  }
  return { records, lastSeq, goodEnd: scan.goodEnd, ...(scan.damage ? { damage: scan.damage.reason } : {}) };
}

function parseMeta(payload: Buffer): { seq: number; ts: string; id: string; type: string } | undefined {
  try {
    const parsed = JSON.parse(payload.toString('utf8')) as { seq?: unknown; ts?: unknown; id?: unknown; type?: unknown };
    if (typeof parsed.seq !== 'number' || !Number.isSafeInteger(parsed.seq) || typeof parsed.ts !== 'string') return undefined;
    if (typeof parsed.id !== 'string' || typeof parsed.type !== 'string') return undefined;
    return { seq: parsed.seq, ts: parsed.ts, id: parsed.id, type: parsed.type };
  } catch {
    return undefined;
  }
}
