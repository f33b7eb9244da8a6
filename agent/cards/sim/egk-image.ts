import { gzipSync } from 'node:zlib';
import { AID_HCA, AID_MF, EGK_FILES } from '../apdu.js';
import { encodeTlv } from '../ber-tlv.js';
import type { SimCardImage, SimFile } from './iso-card.js';
import { type SimPerson } from './sim-person.js';
import { encodeLatin9, insuranceDataXml, personalDataXml, type SimSchema } from './vsd-xml-builder.js';

/**
 * File system images of virtual eGKs: MF / EF.Version2, DF.HCA / EF.StatusVD, EF.PD, EF.VD, laid out
 * as gemSpec_eGK_ObjSys and gemSpec_eGK_Fach_VSDM describe them (length-prefixed PD, offset-headed
 * VD, zero padding to the file size).
 */

/** A G2 eGK ATR as published in gemSpec_COS; readers detect by SELECT, so any ATR would do. */
export const EGK_ATR = Uint8Array.from([0x3b, 0xd3, 0x96, 0xff, 0x81, 0xb1, 0xfe, 0x45, 0x1f, 0x07, 0x80, 0x81, 0x05, 0x2d]);

/** File sizes of a G2 eGK (the files are fixed-size; content is zero-padded). */
const PD_FILE_BYTES = 850;
const VD_FILE_BYTES = 1250;

export interface EgkImageParts {
  /** Bytes of the gzip member in EF.PD (override to build broken cards). */
  pdGzip: Uint8Array;
  vdGzip: Uint8Array;
  statusVd: Uint8Array;
  /** EF.Version2 content; undefined builds a G1 card without the file. */
  version2?: Uint8Array;
  /** Declared PD length; defaults to the real one (a larger value makes a truncated file). */
  pdDeclaredLength?: number;
  /** EF.PD size in bytes; defaults to the G2 size or the content, whichever is larger. */
  pdFileBytes?: number;
  extendedLength?: boolean;
}

export function gzipXml(xml: string): Uint8Array {
  return gzipSync(encodeLatin9(xml));
}

export function statusVdBytes(updatePending: boolean, writtenAt: Date, schemaVersion: string): Uint8Array {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const ts = `${writtenAt.getFullYear()}${pad(writtenAt.getMonth() + 1)}${pad(writtenAt.getDate())}${pad(writtenAt.getHours())}${pad(writtenAt.getMinutes())}${pad(writtenAt.getSeconds())}`;
  const [x = 0, y = 0, z = 0] = schemaVersion.split('.').map(Number);
  const digits = `${pad(x, 3)}${pad(y, 3)}${pad(z, 4)}`;
  const bcd = new Uint8Array(5);
  for (let i = 0; i < 5; i++) bcd[i] = (Number(digits[2 * i]) << 4) | Number(digits[2 * i + 1]);
  const out = new Uint8Array(25);
  out[0] = updatePending ? 0x31 : 0x30;
  out.set(Buffer.from(ts, 'ascii'), 1);
  out.set(bcd, 15);
  return out;
}

/** EF.Version2 with the object system version in 'C1'. */
export function version2Bytes(objectSystem: [number, number, number]): Uint8Array {
  const inner = [
    encodeTlv(0xc0, Uint8Array.from([0x02, 0x00, 0x00])),
    encodeTlv(0xc1, Uint8Array.from(objectSystem)),
    encodeTlv(0xc2, Uint8Array.from([0x01, 0x00, 0x00])),
  ];
  return encodeTlv(0xef, Buffer.concat(inner));
}

function padded(content: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(Math.max(size, content.length));
  out.set(content);
  return out;
}

export function egkImage(parts: EgkImageParts): SimCardImage {
  const pdLength = parts.pdDeclaredLength ?? parts.pdGzip.length;
  const pdContent = new Uint8Array(2 + parts.pdGzip.length);
  pdContent[0] = (pdLength >> 8) & 0xff;
  pdContent[1] = pdLength & 0xff;
  pdContent.set(parts.pdGzip, 2);
  const vdStart = 8;
  const vdEnd = vdStart + parts.vdGzip.length - 1;
  const vdContent = new Uint8Array(8 + parts.vdGzip.length);
  vdContent.set([vdStart >> 8, vdStart & 0xff, vdEnd >> 8, vdEnd & 0xff, 0xff, 0xff, 0xff, 0xff]);
  vdContent.set(parts.vdGzip, 8);

  const hca: SimFile[] = [
    { ...EGK_FILES.statusVd, data: parts.statusVd },
    { ...EGK_FILES.pd, data: parts.pdFileBytes !== undefined ? pdContent.subarray(0, parts.pdFileBytes) : padded(pdContent, PD_FILE_BYTES) },
    { ...EGK_FILES.vd, data: padded(vdContent, VD_FILE_BYTES) },
  ];
  const mf: SimFile[] = parts.version2 ? [{ ...EGK_FILES.version2, data: parts.version2 }] : [];
  return { atr: EGK_ATR, mf, mfAid: AID_MF, applications: [{ aid: AID_HCA, files: hca }], extendedLength: parts.extendedLength ?? true };
}

export type EgkVariant = 'egk' | 'egk51' | 'pkv';

const VARIANTS: Record<EgkVariant, { schema: SimSchema; version: string; objectSystem: [number, number, number] }> = {
  egk: { schema: '5.2', version: '5.2.0', objectSystem: [4, 5, 2] },
  egk51: { schema: '5.1', version: '5.1.0', objectSystem: [4, 0, 0] },
  pkv: { schema: 'pkv-1.0', version: '1.0.0', objectSystem: [4, 5, 2] },
};

/** The standard parts of a virtual eGK for a person (callers may override any part). */
export function egkParts(person: SimPerson, variant: EgkVariant, now: Date = new Date()): EgkImageParts {
  const v = VARIANTS[variant];
  return {
    pdGzip: gzipXml(personalDataXml(person, v.schema)),
    vdGzip: gzipXml(insuranceDataXml(person, v.schema)),
    statusVd: statusVdBytes(person.vsdUpdatePending, now, v.version),
    version2: version2Bytes(v.objectSystem),
  };
}
