import { invalidInput } from '../../core/errors.js';
import { DelimiterTag, ValueTag } from './constants.js';
import type { IppAttribute, IppDateTime, IppMessage, IppValue, StringSyntax } from './ipp-value.js';

/**
 * Encoder for `application/ipp` messages (RFC 8010 §3): header, attribute groups and the
 * end-of-attributes tag. Document data is not part of this buffer: the transport streams it after.
 * Values are checked against the syntax limits of RFC 8011 §5.1 so that a request the printer would
 * reject as malformed never leaves the box; errors name the attribute, never its value.
 */

const OUT_OF_BAND_TAG = {
  unsupported: ValueTag.unsupported,
  default: ValueTag.default,
  unknown: ValueTag.unknown,
  'no-value': ValueTag.noValue,
  'not-settable': ValueTag.notSettable,
  'delete-attribute': ValueTag.deleteAttribute,
  'admin-define': ValueTag.adminDefine,
} as const;

/** Tag and maximum octets per string syntax (RFC 8011 §5.1). */
const STRING_SYNTAX: Record<StringSyntax, { tag: number; max: number }> = {
  textWithoutLanguage: { tag: ValueTag.textWithoutLanguage, max: 1023 },
  nameWithoutLanguage: { tag: ValueTag.nameWithoutLanguage, max: 255 },
  keyword: { tag: ValueTag.keyword, max: 255 },
  uri: { tag: ValueTag.uri, max: 1023 },
  uriScheme: { tag: ValueTag.uriScheme, max: 63 },
  charset: { tag: ValueTag.charset, max: 63 },
  naturalLanguage: { tag: ValueTag.naturalLanguage, max: 63 },
  mimeMediaType: { tag: ValueTag.mimeMediaType, max: 255 },
};

const MAX_SHORT = 0x7fff;
const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

class Writer {
  #buf = Buffer.allocUnsafe(1024);
  #pos = 0;

  #reserve(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }
  u8(v: number): void {
    this.#reserve(1);
    this.#pos = this.#buf.writeUInt8(v, this.#pos);
  }
  u16(v: number): void {
    this.#reserve(2);
    this.#pos = this.#buf.writeUInt16BE(v, this.#pos);
  }
  i32(v: number): void {
    this.#reserve(4);
    this.#pos = this.#buf.writeInt32BE(v, this.#pos);
  }
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }
  result(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#pos));
  }
}

export function encodeMessage(message: IppMessage): Buffer {
  const w = new Writer();
  checkRange(message.version.major, 0, 255, 'version');
  checkRange(message.version.minor, 0, 255, 'version');
  checkRange(message.code, 0, 0xffff, 'operation or status code');
  checkRange(message.requestId, 1, INT32_MAX, 'request-id');
  w.u8(message.version.major);
  w.u8(message.version.minor);
  w.u16(message.code);
  w.i32(message.requestId);
  for (const group of message.groups) {
    if (group.tag < 0x01 || group.tag > 0x0f || group.tag === DelimiterTag.endOfAttributes) {
      throw invalidInput(`IPP group tag ${group.tag} is not a group delimiter`);
    }
    w.u8(group.tag);
    for (const attr of group.attributes) writeAttribute(w, attr, attr.name);
  }
  w.u8(DelimiterTag.endOfAttributes);
  return w.result();
}

function writeAttribute(w: Writer, attr: IppAttribute, label: string): void {
  const nameBytes = Buffer.from(attr.name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length > MAX_SHORT) throw invalidInput(`IPP attribute name of ${nameBytes.length} bytes`);
  if (attr.values.length === 0) throw invalidInput(`IPP attribute ${label} has no value`);
  attr.values.forEach((value, i) => writeValue(w, value, i === 0 ? nameBytes : EMPTY, label));
}

const EMPTY = Buffer.alloc(0);

function header(w: Writer, tag: number, nameBytes: Uint8Array, valueLength: number, label: string): void {
  if (valueLength > MAX_SHORT) throw invalidInput(`IPP value of ${label} is ${valueLength} bytes (at most ${MAX_SHORT})`);
  w.u8(tag);
  w.u16(nameBytes.length);
  w.bytes(nameBytes);
  w.u16(valueLength);
}

function writeValue(w: Writer, value: IppValue, nameBytes: Uint8Array, label: string): void {
  switch (value.type) {
    case 'integer':
    case 'enum':
      checkRange(value.value, INT32_MIN, INT32_MAX, label);
      header(w, value.type === 'integer' ? ValueTag.integer : ValueTag.enum, nameBytes, 4, label);
      w.i32(value.value);
      return;
    case 'boolean':
      header(w, ValueTag.boolean, nameBytes, 1, label);
      w.u8(value.value ? 1 : 0);
      return;
    case 'rangeOfInteger':
      checkRange(value.lower, INT32_MIN, INT32_MAX, label);
      checkRange(value.upper, value.lower, INT32_MAX, label);
      header(w, ValueTag.rangeOfInteger, nameBytes, 8, label);
      w.i32(value.lower);
      w.i32(value.upper);
      return;
    case 'resolution':
      checkRange(value.crossFeed, 1, INT32_MAX, label);
      checkRange(value.feed, 1, INT32_MAX, label);
      checkRange(value.units, 0, 127, label);
      header(w, ValueTag.resolution, nameBytes, 9, label);
      w.i32(value.crossFeed);
      w.i32(value.feed);
      w.u8(value.units);
      return;
    case 'dateTime':
      header(w, ValueTag.dateTime, nameBytes, 11, label);
      w.bytes(dateTimeBytes(value.value, label));
      return;
    case 'textWithLanguage':
    case 'nameWithLanguage': {
      const lang = Buffer.from(value.language, 'utf8');
      const body = Buffer.from(value.value, 'utf8');
      checkRange(lang.length, 1, 63, `${label} language`);
      checkRange(body.length, 0, value.type === 'textWithLanguage' ? 1023 : 255, label);
      header(w, value.type === 'textWithLanguage' ? ValueTag.textWithLanguage : ValueTag.nameWithLanguage, nameBytes, 4 + lang.length + body.length, label);
      w.u16(lang.length);
      w.bytes(lang);
      w.u16(body.length);
      w.bytes(body);
      return;
    }
    case 'octetString':
      checkRange(value.value.length, 0, 1023, label);
      header(w, ValueTag.octetString, nameBytes, value.value.length, label);
      w.bytes(value.value);
      return;
    case 'collection':
      header(w, ValueTag.begCollection, nameBytes, 0, label);
      for (const member of value.members) {
        const memberName = Buffer.from(member.name, 'utf8');
        checkRange(memberName.length, 1, 255, `${label} member name`);
        header(w, ValueTag.memberAttrName, EMPTY, memberName.length, label);
        w.bytes(memberName);
        if (member.values.length === 0) throw invalidInput(`IPP collection member ${label}.${member.name} has no value`);
        for (const v of member.values) writeValue(w, v, EMPTY, `${label}.${member.name}`);
      }
      header(w, ValueTag.endCollection, EMPTY, 0, label);
      return;
    case 'out-of-band':
      header(w, OUT_OF_BAND_TAG[value.value], nameBytes, 0, label);
      return;
    case 'opaque':
      // Only tags the decoder itself leaves opaque may be written back; never a delimiter or a
      // collection tag, which would change the structure around them.
      if (value.tag <= 0x0f || value.tag > 0x7f || value.tag === ValueTag.begCollection || value.tag === ValueTag.endCollection || value.tag === ValueTag.memberAttrName) {
        throw invalidInput(`IPP opaque value of ${label} uses structural tag ${value.tag}`);
      }
      header(w, value.tag, nameBytes, value.bytes.length, label);
      w.bytes(value.bytes);
      return;
    default: {
      const syntax = STRING_SYNTAX[value.type];
      const bytes = Buffer.from(value.value, 'utf8');
      checkRange(bytes.length, 0, syntax.max, label);
      header(w, syntax.tag, nameBytes, bytes.length, label);
      w.bytes(bytes);
    }
  }
}

function checkRange(n: number, min: number, max: number, label: string): void {
  if (!Number.isInteger(n) || n < min || n > max) throw invalidInput(`IPP value of ${label} is out of range ${min}..${max}`);
}

function dateTimeBytes(d: IppDateTime, label: string): Buffer {
  checkRange(d.year, 0, 0xffff, label);
  checkRange(d.month, 1, 12, label);
  checkRange(d.day, 1, 31, label);
  checkRange(d.hour, 0, 23, label);
  checkRange(d.minutes, 0, 59, label);
  checkRange(d.seconds, 0, 60, label);
  checkRange(d.deciSeconds, 0, 9, label);
  checkRange(d.utcHours, 0, 14, label);
  checkRange(d.utcMinutes, 0, 59, label);
  const b = Buffer.alloc(11);
  b.writeUInt16BE(d.year, 0);
  b.writeUInt8(d.month, 2);
  b.writeUInt8(d.day, 3);
  b.writeUInt8(d.hour, 4);
  b.writeUInt8(d.minutes, 5);
  b.writeUInt8(d.seconds, 6);
  b.writeUInt8(d.deciSeconds, 7);
  b.write(d.utcDirection, 8, 'latin1');
  b.writeUInt8(d.utcHours, 9);
  b.writeUInt8(d.utcMinutes, 10);
  return b;
}
