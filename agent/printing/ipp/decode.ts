import { ErrorCode, PraxisboxError } from '../../core/errors.js';
import { OutOfBandNames, ValueTag, groupNameOf } from './constants.js';
import type { IppAttribute, IppDateTime, IppGroup, IppResponse, IppValue, StringSyntax } from './ipp-value.js';

/**
 * Decoder for `application/ipp` messages (RFC 8010 §3). Pure: bytes in, typed message out. Every
 * malformed input ends in a `PraxisboxError` with code `Corrupt` naming the byte offset and what was
 * expected there — never a RangeError, never a value from the message (a printer echoes job names).
 */

export interface DecodeOptions {
  /** Collections nest (media-col → media-size); deeper than this is treated as hostile. */
  maxCollectionDepth?: number;
}

const DEFAULT_MAX_DEPTH = 16;

const STRING_SYNTAX = new Map<number, StringSyntax>([
  [ValueTag.textWithoutLanguage, 'textWithoutLanguage'],
  [ValueTag.nameWithoutLanguage, 'nameWithoutLanguage'],
  [ValueTag.keyword, 'keyword'],
  [ValueTag.uri, 'uri'],
  [ValueTag.uriScheme, 'uriScheme'],
  [ValueTag.charset, 'charset'],
  [ValueTag.naturalLanguage, 'naturalLanguage'],
  [ValueTag.mimeMediaType, 'mimeMediaType'],
]);

export function ippCorrupt(what: string, offset: number): PraxisboxError {
  return new PraxisboxError(ErrorCode.Corrupt, `malformed IPP message: ${what} at byte ${offset}`, { details: { offset } });
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw ippCorrupt(`truncated ${what}`, this.pos);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.pos++);
  }
  /** Lengths are SIGNED-SHORT (RFC 8010 §3); a negative one cannot be honoured. */
  length(what: string): number {
    this.need(2, what);
    const n = this.buf.readInt16BE(this.pos);
    if (n < 0) throw ippCorrupt(`negative ${what}`, this.pos);
    this.pos += 2;
    return n;
  }
  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(n: number, what: string): string {
    return this.bytes(n, what).toString('utf8');
  }
}

export function decodeMessage(input: Uint8Array, options: DecodeOptions = {}): IppResponse {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const r = new Reader(buf);
  const maxDepth = options.maxCollectionDepth ?? DEFAULT_MAX_DEPTH;
  r.need(8, 'message header');
  const version = { major: buf.readUInt8(0), minor: buf.readUInt8(1) };
  const code = buf.readUInt16BE(2);
  const requestId = buf.readInt32BE(4);
  r.pos = 8;
  const groups: IppGroup[] = [];
  let tag = r.u8('delimiter tag');
  while (tag !== 0x03) {
    if (tag > 0x0f) throw ippCorrupt('attribute outside any group', r.pos - 1);
    if (tag === 0x00) throw ippCorrupt('reserved delimiter tag 0x00', r.pos - 1);
    const group: IppGroup = { name: groupNameOf(tag), tag, attributes: [] };
    groups.push(group);
    tag = readGroup(r, group.attributes, maxDepth);
  }
  return { version, code, requestId, groups, data: new Uint8Array(buf.subarray(r.pos)) };
}

/** Reads attributes until the next delimiter tag, which it returns. */
function readGroup(r: Reader, attributes: IppAttribute[], maxDepth: number): number {
  let current: IppAttribute | undefined;
  for (;;) {
    const at = r.pos;
    const tag = r.u8('value tag');
    if (tag <= 0x0f) return tag;
    const nameLength = r.length('name length');
    if (nameLength === 0) {
      // additional-value (RFC 8010 §3.1.5): belongs to the attribute before it.
      if (!current) throw ippCorrupt('additional value without an attribute', at);
      current.values.push(readValue(r, tag, at, 0, maxDepth));
      continue;
    }
    const attrName = r.string(nameLength, 'attribute name');
    current = { name: attrName, values: [readValue(r, tag, at, 0, maxDepth)] };
    attributes.push(current);
  }
}

function readValue(r: Reader, tag: number, at: number, depth: number, maxDepth: number): IppValue {
  const length = r.length('value length');
  if (tag === ValueTag.begCollection) {
    // RFC 8010 §3.1.6: the begCollection value is empty; tolerate (skip) bytes a sender put there.
    r.bytes(length, 'collection value');
    if (depth + 1 > maxDepth) throw ippCorrupt(`collections nested deeper than ${maxDepth}`, at);
    return { type: 'collection', members: readCollection(r, depth + 1, maxDepth) };
  }
  if (tag === ValueTag.endCollection || tag === ValueTag.memberAttrName) {
    throw ippCorrupt('collection member outside a collection', at);
  }
  const v = r.bytes(length, 'value');
  if (tag >= 0x10 && tag <= 0x1f) {
    const oob = OutOfBandNames[tag as keyof typeof OutOfBandNames];
    return oob ? { type: 'out-of-band', value: oob } : { type: 'opaque', tag, bytes: new Uint8Array(v) };
  }
  const fixed = (n: number, what: string): void => {
    if (length !== n) throw ippCorrupt(`${what} value of ${length} bytes (expected ${n})`, at);
  };
  switch (tag) {
    case ValueTag.integer:
    case ValueTag.enum:
      fixed(4, tag === ValueTag.integer ? 'integer' : 'enum');
      return { type: tag === ValueTag.integer ? 'integer' : 'enum', value: v.readInt32BE(0) };
    case ValueTag.boolean:
      fixed(1, 'boolean');
      return { type: 'boolean', value: v.readUInt8(0) !== 0 };
    case ValueTag.rangeOfInteger:
      fixed(8, 'rangeOfInteger');
      return { type: 'rangeOfInteger', lower: v.readInt32BE(0), upper: v.readInt32BE(4) };
    case ValueTag.resolution:
      fixed(9, 'resolution');
      return { type: 'resolution', crossFeed: v.readInt32BE(0), feed: v.readInt32BE(4), units: v.readInt8(8) };
    case ValueTag.dateTime:
      fixed(11, 'dateTime');
      return { type: 'dateTime', value: readDateTime(v, at) };
    case ValueTag.textWithLanguage:
    case ValueTag.nameWithLanguage:
      return readWithLanguage(v, tag, at);
    case ValueTag.octetString:
      return { type: 'octetString', value: new Uint8Array(v) };
    default: {
      const syntax = STRING_SYNTAX.get(tag);
      if (syntax) return { type: syntax, value: v.toString('utf8') };
      return { type: 'opaque', tag, bytes: new Uint8Array(v) };
    }
  }
}

function readCollection(r: Reader, depth: number, maxDepth: number): IppAttribute[] {
  const members: IppAttribute[] = [];
  let current: IppAttribute | undefined;
  for (;;) {
    const at = r.pos;
    const tag = r.u8('collection member tag');
    if (tag <= 0x0f) throw ippCorrupt('collection not closed before the next group', at);
    // Inside a collection every value is nameless (RFC 8010 §3.1.7); the name travels as memberAttrName.
    if (r.length('member name length') !== 0) throw ippCorrupt('named attribute inside a collection', at);
    if (tag === ValueTag.endCollection) {
      r.bytes(r.length('endCollection value length'), 'endCollection value');
      if (current && current.values.length === 0) throw ippCorrupt('collection member without a value', at);
      return members;
    }
    if (tag === ValueTag.memberAttrName) {
      if (current && current.values.length === 0) throw ippCorrupt('collection member without a value', at);
      const memberName = r.string(r.length('member name value length'), 'member name');
      if (memberName.length === 0) throw ippCorrupt('empty collection member name', at);
      current = { name: memberName, values: [] };
      members.push(current);
      continue;
    }
    if (!current) throw ippCorrupt('collection value before its member name', at);
    current.values.push(readValue(r, tag, at, depth, maxDepth));
  }
}

function readDateTime(v: Buffer, at: number): IppDateTime {
  const direction = String.fromCharCode(v.readUInt8(8));
  if (direction !== '+' && direction !== '-') throw ippCorrupt('dateTime without a UTC direction', at);
  return {
    year: v.readUInt16BE(0),
    month: v.readUInt8(2),
    day: v.readUInt8(3),
    hour: v.readUInt8(4),
    minutes: v.readUInt8(5),
    seconds: v.readUInt8(6),
    deciSeconds: v.readUInt8(7),
    utcDirection: direction,
    utcHours: v.readUInt8(9),
    utcMinutes: v.readUInt8(10),
  };
}

/** RFC 8010 §3.9: SHORT language length, language, SHORT text length, text — both within the value. */
function readWithLanguage(v: Buffer, tag: number, at: number): IppValue {
  if (v.length < 4) throw ippCorrupt('text/name with language shorter than its length fields', at);
  const langLength = v.readInt16BE(0);
  if (langLength < 0 || 2 + langLength + 2 > v.length) throw ippCorrupt('language length beyond the value', at);
  const textLength = v.readInt16BE(2 + langLength);
  if (textLength < 0 || 4 + langLength + textLength !== v.length) throw ippCorrupt('text length does not fill the value', at);
  return {
    type: tag === ValueTag.textWithLanguage ? 'textWithLanguage' : 'nameWithLanguage',
    language: v.toString('utf8', 2, 2 + langLength),
    value: v.toString('utf8', 4 + langLength, 4 + langLength + textLength),
  };
}
