import { encodeDin66003 } from '../../text/din66003.js';
import { AID_KVK, AID_KVK_OLD } from '../apdu.js';
import { encodeTlv } from '../ber-tlv.js';
import { KVK_TAGS } from '../kvk-template.js';
import type { SimCardImage } from './iso-card.js';
import type { SimPerson } from './sim-person.js';

/**
 * Memory images of virtual KVKs (and the PKV insurers' memory card): the template 0x60 of DIN 66003
 * fields with the XOR checksum, as a terminal presents it after SELECT of the KVK application.
 */

/** ATR of a synchronous memory card as PC/SC readers report it (H1 0x92). */
export const KVK_ATR = Uint8Array.from([0x3b, 0x04, 0x92, 0x23, 0x10, 0x91]);

export interface KvkImageOptions {
  /** PKV memory card: insurer number zeroed, tag 83 holds the person number. */
  pkv?: boolean;
  /** Register under the old AID D2 80 00 00 01 01 instead. */
  oldAid?: boolean;
  /** XOR this into the checksum byte (non-zero makes it wrong). */
  corruptChecksum?: number;
}

const text = (tag: number, value: string): Uint8Array => encodeTlv(tag, encodeDin66003(value));

/** The template bytes for a person (exported for unit tests of the parser). */
export function kvkTemplate(p: SimPerson, options: KvkImageOptions = {}): Uint8Array {
  const [y, m, d] = p.birthDate.split('-');
  const [vy, vm] = p.kvkValidUntil.split('-');
  const fields: Uint8Array[] = [
    text(KVK_TAGS.insurerName, p.payerName.slice(0, 28)),
    text(KVK_TAGS.insurerNumber, options.pkv ? '0000000' : p.payerId.slice(2)),
    text(KVK_TAGS.vknr, `${p.wop}${options.pkv ? '000' : '101'}`),
    text(KVK_TAGS.insuranceNumber, p.insuranceNumber),
    text(KVK_TAGS.status, options.pkv ? '01' : `${p.insuredType}000`),
    ...(options.pkv ? [] : [text(KVK_TAGS.statusSupplement, '0')]),
    ...(p.title !== undefined ? [text(KVK_TAGS.title, p.title)] : []),
    text(KVK_TAGS.firstName, p.firstName),
    ...(p.nameSuffix !== undefined ? [text(KVK_TAGS.nameSuffix, p.nameSuffix)] : []),
    text(KVK_TAGS.lastName, p.lastName),
    text(KVK_TAGS.birthDate, `${d}${m}${y}`),
    text(KVK_TAGS.street, `${p.street} ${p.houseNumber}`.slice(0, 28)),
    ...(p.country !== 'D' ? [text(KVK_TAGS.country, p.country)] : []),
    text(KVK_TAGS.postcode, p.postcode),
    text(KVK_TAGS.city, p.city.slice(0, 22)),
    text(KVK_TAGS.validUntil, `${vm}${(vy ?? '').slice(2)}`),
  ];
  const body = Buffer.concat([...fields, Uint8Array.from([KVK_TAGS.checksum, 0x01, 0x00])]);
  const template = encodeTlv(0x60, body);
  let x = 0;
  for (let i = 0; i < template.length - 1; i++) x ^= template[i] as number;
  template[template.length - 1] = x ^ (options.corruptChecksum ?? 0);
  return template;
}

export function kvkImage(p: SimPerson, options: KvkImageOptions = {}): SimCardImage {
  const template = kvkTemplate(p, options);
  // The memory card holds 256 bytes; the application file is the template plus filler.
  const file = new Uint8Array(Math.max(template.length, 226));
  file.set(template);
  return {
    atr: KVK_ATR,
    mf: [],
    applications: [{ aid: options.oldAid ? AID_KVK_OLD : AID_KVK, files: [{ data: file }], implicitFile: true }],
    extendedLength: false,
  };
}
