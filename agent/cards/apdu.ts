/**
 * ISO 7816-4 command APDUs used by the card readers and the status words they answer with.
 * Pure byte building and parsing; nothing here talks to a card.
 */

/** DF.HCA of the eGK (gemSpec_eGK_ObjSys). */
export const AID_HCA = Uint8Array.from([0xd2, 0x76, 0x00, 0x00, 0x01, 0x02]);
/** KVK application (Technische Spezifikation der Versichertenkarte). */
export const AID_KVK = Uint8Array.from([0xd2, 0x76, 0x00, 0x00, 0x01, 0x01]);
/** The pre-registration KVK AID, still answered by some old cards and terminals. */
export const AID_KVK_OLD = Uint8Array.from([0xd2, 0x80, 0x00, 0x00, 0x01, 0x01]);
/** The eGK's MF (root), selected by its application identifier. */
export const AID_MF = Uint8Array.from([0xd2, 0x76, 0x00, 0x01, 0x44, 0x80, 0x00]);

/** Short file identifiers and file identifiers of the eGK files read here. */
export const EGK_FILES = {
  /** MF / EF.Version2 — versions of the object system (G2 and later only). */
  version2: { sfi: 0x11, fid: 0x2f11 },
  /** DF.HCA / EF.StatusVD — transaction status, timestamp and schema version of the VSD. */
  statusVd: { sfi: 0x0c, fid: 0xd00c },
  /** DF.HCA / EF.PD — personal data (gzip'd XML). */
  pd: { sfi: 0x01, fid: 0xd001 },
  /** DF.HCA / EF.VD — insurance data (gzip'd XML). */
  vd: { sfi: 0x02, fid: 0xd002 },
} as const;

export const SW = {
  ok: 0x9000,
  /** End of file reached before Le bytes were read: normal for the KVK and for over-long reads. */
  endOfFile: 0x6282,
  corruptData: 0x6281,
  fileDeactivated: 0x6283,
  wrongLength: 0x6700,
  securityStatus: 0x6982,
  /** No current EF — seen spuriously mid-file on some readers (domain notes §3). */
  noCurrentEf: 0x6986,
  fileNotFound: 0x6a82,
  /** Offset beyond the file — also seen spuriously mid-file. */
  wrongOffset: 0x6b00,
  insNotSupported: 0x6d00,
  claNotSupported: 0x6e00,
} as const;

/** Largest Le of a short READ BINARY we send: some readers fail above 0xFC (domain notes §3). */
export const SHORT_READ_MAX = 0xfc;
/** Largest response a single extended READ BINARY may ask for. */
export const EXTENDED_READ_MAX = 0xffff;

export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

export function parseResponse(raw: Uint8Array): ResponseApdu {
  if (raw.length < 2) return { data: new Uint8Array(0), sw: 0 };
  const n = raw.length;
  return { data: raw.subarray(0, n - 2), sw: ((raw[n - 2] as number) << 8) | (raw[n - 1] as number) };
}

export const swHex = (sw: number): string => sw.toString(16).padStart(4, '0').toUpperCase();

/** SELECT by application identifier. `fci: false` asks for no response data (P2 = 0C). */
export function selectAid(aid: Uint8Array, fci = false): Uint8Array {
  return Uint8Array.from([0x00, 0xa4, 0x04, fci ? 0x00 : 0x0c, aid.length, ...aid]);
}

/** SELECT an EF below the current DF by its file identifier, no response data. */
export function selectEf(fid: number): Uint8Array {
  return Uint8Array.from([0x00, 0xa4, 0x02, 0x0c, 0x02, (fid >> 8) & 0xff, fid & 0xff]);
}

function le(length: number): number[] {
  if (length < 1 || length > EXTENDED_READ_MAX) throw new RangeError(`Le ${length} out of range`);
  if (length <= 0x100) return [length & 0xff];
  // Case 2E: a zero byte, then Le in two bytes.
  return [0x00, (length >> 8) & 0xff, length & 0xff];
}

/** READ BINARY with short file identifier (selects the EF as a side effect); offset ≤ 255. */
export function readBinarySfi(sfi: number, offset: number, length: number): Uint8Array {
  if (sfi < 1 || sfi > 30) throw new RangeError(`SFI ${sfi} out of range`);
  if (offset < 0 || offset > 0xff) throw new RangeError(`offset ${offset} not addressable with an SFI`);
  return Uint8Array.from([0x00, 0xb0, 0x80 | sfi, offset, ...le(length)]);
}

/** READ BINARY of the current EF; offset ≤ 0x7FFF. */
export function readBinary(offset: number, length: number): Uint8Array {
  if (offset < 0 || offset > 0x7fff) throw new RangeError(`offset ${offset} out of range`);
  return Uint8Array.from([0x00, 0xb0, (offset >> 8) & 0x7f, offset & 0xff, ...le(length)]);
}

/** Describes a command for logs: instruction and parameters only, never data. */
export function describeCommand(apdu: Uint8Array): string {
  const ins = apdu[1] ?? 0;
  const name = ins === 0xa4 ? 'SELECT' : ins === 0xb0 ? 'READ BINARY' : `INS ${ins.toString(16)}`;
  return `${name} ${[apdu[2] ?? 0, apdu[3] ?? 0].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
}
