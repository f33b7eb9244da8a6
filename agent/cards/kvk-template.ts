import { decodeDin66003 } from '../text/din66003.js';
import { readTlv, readTlvs, TlvError, type Tlv } from './ber-tlv.js';
import { invalidCardData } from './card-errors.js';
import { hasControlCharacters, insuredTypeOf, isoFromCompactDate, type CardWarning, type Coverage, type InsuredPerson } from './insured-person.js';

/**
 * The KVK "VersichertenDatenTemplate" (Technische Spezifikation der Versichertenkarte 2.08): a BER-TLV
 * template tag 0x60 of DIN 66003 text fields, closed by a one-byte XOR checksum (tag 0x8E). Private
 * insurers' memory cards use the same layout with the insurer number zeroed and tag 0x83 holding the
 * person number within the contract.
 */
export const KVK_TAGS = {
  insurerName: 0x80,
  insurerNumber: 0x81,
  insuranceNumber: 0x82,
  status: 0x83,
  title: 0x84,
  firstName: 0x85,
  nameSuffix: 0x86,
  lastName: 0x87,
  birthDate: 0x88,
  street: 0x89,
  country: 0x8a,
  postcode: 0x8b,
  city: 0x8c,
  validUntil: 0x8d,
  checksum: 0x8e,
  vknr: 0x8f,
  statusSupplement: 0x90,
} as const;

/** First byte of a memory card's ATR (H1) when a terminal returns ATR and directory before the template. */
const ATR_H1 = new Set([0x82, 0x92, 0xa2]);
/** ATR (4 bytes) and directory precede the application file in the card's memory. */
const ATR_AND_DIRECTORY_BYTES = 30;

export type ChecksumResult = 'ok' | 'mismatch' | 'missing';

export interface KvkData {
  person: InsuredPerson;
  coverage: Coverage;
  checksum: ChecksumResult;
  warnings: CardWarning[];
}

function templateStart(data: Uint8Array): number {
  if (data[0] === 0x60) return 0;
  if (ATR_H1.has(data[0] ?? -1) && data[ATR_AND_DIRECTORY_BYTES] === 0x60) return ATR_AND_DIRECTORY_BYTES;
  throw invalidCardData('KVK: no data template (tag 60) found');
}

/** XOR over the template from its tag through the checksum byte is zero when the checksum holds. */
export function kvkChecksum(template: Uint8Array, checksumTlv: Tlv | undefined, templateOffset: number): ChecksumResult {
  if (!checksumTlv || checksumTlv.value.length !== 1) return 'missing';
  let x = 0;
  const endExclusive = checksumTlv.valueOffset + 1;
  for (let i = templateOffset; i < endExclusive; i++) x ^= template[i] as number;
  return x === 0 ? 'ok' : 'mismatch';
}

/** Parses the bytes a READ BINARY of the KVK application returned (status word already removed). */
export function parseKvk(data: Uint8Array): KvkData {
  const start = templateStart(data);
  let outer: Tlv;
  let fields: Tlv[];
  try {
    outer = readTlv(data, start).tlv;
    fields = readTlvs(data, outer.valueOffset, outer.valueOffset + outer.value.length);
  } catch (err) {
    if (err instanceof TlvError) throw invalidCardData('KVK: template is not valid BER-TLV', err);
    throw err;
  }
  const byTag = new Map<number, Tlv>();
  for (const f of fields) {
    if (byTag.has(f.tag)) throw invalidCardData(`KVK: tag ${f.tag.toString(16)} appears twice`);
    byTag.set(f.tag, f);
  }
  const warnings: CardWarning[] = [];
  const checksum = kvkChecksum(data, byTag.get(KVK_TAGS.checksum), start);
  if (checksum === 'mismatch') warnings.push({ code: 'kvk-checksum-mismatch', message: 'the KVK checksum does not match the data' });
  if (checksum === 'missing') warnings.push({ code: 'kvk-checksum-missing', message: 'the KVK carries no checksum' });

  const text = (tag: number, field: string, max: number): string | undefined => {
    const t = byTag.get(tag);
    if (!t || t.value.length === 0) return undefined;
    let value: string;
    try {
      value = decodeDin66003(t.value).trim();
    } catch (err) {
      throw invalidCardData(`KVK: ${field} is not DIN 66003 text`, err);
    }
    if (value.length > max) throw invalidCardData(`KVK: ${field} is longer than ${max} characters`);
    if (hasControlCharacters(value)) throw invalidCardData(`KVK: ${field} contains control characters`);
    return value === '' ? undefined : value;
  };
  const required = (tag: number, field: string, max: number): string => {
    const v = text(tag, field, max);
    if (v === undefined) throw invalidCardData(`KVK: ${field} missing`);
    return v;
  };

  const insurerNumber = required(KVK_TAGS.insurerNumber, 'insurer number', 9);
  if (!/^\d{7,9}$/.test(insurerNumber)) throw invalidCardData('KVK: insurer number has an invalid format');
  const pkv = /^0+$/.test(insurerNumber);
  const insuranceNumber = required(KVK_TAGS.insuranceNumber, 'insurance number', 12);
  const birthRaw = required(KVK_TAGS.birthDate, 'birth date', 8);
  const birthDate = /^\d{8}$/.test(birthRaw) ? isoFromCompactDate(birthRaw.slice(4) + birthRaw.slice(2, 4) + birthRaw.slice(0, 2)) : undefined;
  if (birthDate === undefined) throw invalidCardData('KVK: birth date is not a date (TTMMJJJJ)');

  const person: InsuredPerson = {
    insuranceNumber,
    firstName: required(KVK_TAGS.firstName, 'first name', 28),
    lastName: required(KVK_TAGS.lastName, 'surname', 28),
    birthDate,
  };
  const title = text(KVK_TAGS.title, 'title', 15);
  if (title !== undefined) person.title = title;
  // Tag 86 carries "Namenszusatz/Vorsatzwort" in one field; it is kept as the suffix.
  const suffix = text(KVK_TAGS.nameSuffix, 'name suffix', 15);
  if (suffix !== undefined) person.nameSuffix = suffix;
  const status = text(KVK_TAGS.status, 'status', 5);
  if (pkv && status !== undefined) person.personNumber = status;

  const street = text(KVK_TAGS.street, 'street', 28);
  const postcode = text(KVK_TAGS.postcode, 'postcode', 7);
  const city = text(KVK_TAGS.city, 'city', 22);
  if (street !== undefined || postcode !== undefined || city !== undefined) {
    // Country is omitted for Germany (spec: "entfällt bei D").
    person.address = { country: text(KVK_TAGS.country, 'country code', 3) ?? 'D' };
    if (street !== undefined) person.address.street = street;
    if (postcode !== undefined) person.address.postcode = postcode;
    if (city !== undefined) person.address.city = city;
  } else warnings.push({ code: 'no-address', message: 'the card holds no address' });

  const coverage: Coverage = {
    kind: pkv ? 'pkv' : 'gkv',
    payer: { id: insurerNumber, name: required(KVK_TAGS.insurerName, 'insurer name', 28) },
  };
  if (!pkv && status !== undefined) {
    if (!/^\d/.test(status)) throw invalidCardData('KVK: status has an invalid format');
    coverage.insuredTypeCode = status.slice(0, 1);
    coverage.insuredType = insuredTypeOf(coverage.insuredTypeCode);
  }
  const vknr = text(KVK_TAGS.vknr, 'VKNR', 5);
  if (vknr !== undefined) {
    if (!/^\d{2}(\d{3})?$/.test(vknr)) throw invalidCardData('KVK: VKNR has an invalid format');
    // The first two digits of the VKNR name the KV region, which is what the WOP carries.
    coverage.wop = vknr.slice(0, 2);
    if (vknr.length === 5) coverage.vknr = vknr;
  }
  const until = text(KVK_TAGS.validUntil, 'valid-until date', 4);
  if (until !== undefined) {
    const m = /^(0[1-9]|1[0-2])(\d{2})$/.exec(until);
    if (!m) throw invalidCardData('KVK: valid-until date is not MMJJ');
    const yy = Number(m[2]);
    // KVKs were issued from 1995 on; a two-digit year below 90 is this century.
    coverage.cardValidUntil = `${yy < 90 ? 2000 + yy : 1900 + yy}-${m[1]}`;
  } else warnings.push({ code: 'kvk-no-validity', message: 'the KVK carries no valid-until date' });
  return { person, coverage, checksum, warnings };
}
