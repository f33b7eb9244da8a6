/**
 * The small BER-TLV subset the health cards use: one- or two-byte tags, definite lengths in one to
 * three bytes (ISO 7816-4 §5.2). Pure; every malformed input is reported with its offset.
 */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte in the parsed buffer. */
  offset: number;
  /** Offset of the first value byte. */
  valueOffset: number;
  value: Uint8Array;
  constructed: boolean;
}

export class TlvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlvError';
  }
}

/** Reads one TLV at `offset`; returns it and the offset after it. */
export function readTlv(buf: Uint8Array, offset: number): { tlv: Tlv; next: number } {
  let i = offset;
  const first = buf[i];
  if (first === undefined) throw new TlvError(`tag missing at offset ${offset}`);
  let tag = first;
  i += 1;
  if ((first & 0x1f) === 0x1f) {
    const second = buf[i];
    if (second === undefined) throw new TlvError(`second tag byte missing at offset ${i}`);
    if (second & 0x80) throw new TlvError(`tags longer than two bytes are not supported (offset ${offset})`);
    tag = (first << 8) | second;
    i += 1;
  }
  const l0 = buf[i];
  if (l0 === undefined) throw new TlvError(`length missing at offset ${i}`);
  i += 1;
  let length: number;
  if (l0 < 0x80) length = l0;
  else if (l0 === 0x81 || l0 === 0x82) {
    const n = l0 - 0x80;
    if (i + n > buf.length) throw new TlvError(`length bytes missing at offset ${i}`);
    length = n === 1 ? (buf[i] as number) : ((buf[i] as number) << 8) | (buf[i + 1] as number);
    i += n;
  } else throw new TlvError(`unsupported length byte 0x${l0.toString(16)} at offset ${i - 1}`);
  if (i + length > buf.length) throw new TlvError(`value of tag 0x${tag.toString(16)} at offset ${offset} runs past the end`);
  return {
    tlv: { tag, offset, valueOffset: i, value: buf.subarray(i, i + length), constructed: (first & 0x20) !== 0 },
    next: i + length,
  };
}

/** All TLVs in `buf` from `start` to `end`, in order. */
export function readTlvs(buf: Uint8Array, start = 0, end = buf.length): Tlv[] {
  const out: Tlv[] = [];
  let i = start;
  const view = buf.subarray(0, end);
  while (i < end) {
    const { tlv, next } = readTlv(view, i);
    out.push(tlv);
    i = next;
  }
  return out;
}

/** Encodes one TLV with a one-byte tag (enough for the card images the simulator builds). */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  const len = value.length;
  const lenBytes = len < 0x80 ? [len] : len <= 0xff ? [0x81, len] : [0x82, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(1 + lenBytes.length + len);
  out[0] = tag;
  out.set(lenBytes, 1);
  out.set(value, 1 + lenBytes.length);
  return out;
}
