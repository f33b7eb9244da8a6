import { SW } from '../apdu.js';

/**
 * An ISO 7816-4 card with transparent files, enough of it to stand in for an eGK or a KVK: SELECT
 * (by AID, by FID), READ BINARY (by SFI or offset, short and extended Le), and faults to inject. Used
 * in memory by unit tests and behind a vpcd connection by integration tests and `praxisbox sim card`.
 */
export interface SimFile {
  fid?: number;
  sfi?: number;
  data: Uint8Array;
}

export interface SimApplication {
  aid: Uint8Array;
  files: SimFile[];
  /** Memory cards have one file, current as soon as the application is selected. */
  implicitFile?: boolean;
}

export interface SimCardImage {
  atr: Uint8Array;
  mf: SimFile[];
  applications: SimApplication[];
  /** Whether READ BINARY accepts extended Le (the eGK G2 does). */
  extendedLength: boolean;
  /** The MF's application identifier, if the MF can be selected by AID (eGK). */
  mfAid?: Uint8Array;
}

/** A fault fires on the n-th command APDU (1-based, counted since power-on) or on a matching one. */
export type SimFault =
  /** Answer with this status word instead, once. */
  | { at: number; sw: number }
  /** Drop the connection without answering: the card is pulled mid-command. */
  | { at: number; remove: true };

export type SimResponse = { kind: 'response'; bytes: Uint8Array } | { kind: 'remove' };

interface Selection {
  app: SimApplication | undefined;
  ef: SimFile | undefined;
}

const sw = (code: number, data: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const out = new Uint8Array(data.length + 2);
  out.set(data);
  out[data.length] = code >> 8;
  out[data.length + 1] = code & 0xff;
  return out;
};

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

export class IsoCard {
  readonly image: SimCardImage;
  readonly #faults: SimFault[];
  #sel: Selection = { app: undefined, ef: undefined };
  #count = 0;
  /** Every command APDU received since construction (for tests and the benchmark's replay). */
  readonly log: Uint8Array[] = [];

  constructor(image: SimCardImage, faults: SimFault[] = []) {
    this.image = image;
    this.#faults = [...faults];
  }

  get atr(): Uint8Array {
    return this.image.atr;
  }

  /** Power-on or reset: the MF is current again, the command count restarts. */
  reset(): void {
    this.#sel = { app: undefined, ef: undefined };
    this.#count = 0;
  }

  process(apdu: Uint8Array): SimResponse {
    this.#count += 1;
    this.log.push(Uint8Array.from(apdu));
    const faultAt = this.#faults.findIndex((f) => f.at === this.#count);
    if (faultAt >= 0) {
      const [fault] = this.#faults.splice(faultAt, 1);
      if (fault && 'remove' in fault) return { kind: 'remove' };
      if (fault) return { kind: 'response', bytes: sw(fault.sw) };
    }
    return { kind: 'response', bytes: this.#execute(apdu) };
  }

  #execute(apdu: Uint8Array): Uint8Array {
    if (apdu.length < 4) return sw(SW.wrongLength);
    if (apdu[0] !== 0x00) return sw(SW.claNotSupported);
    switch (apdu[1]) {
      case 0xa4:
        return this.#select(apdu);
      case 0xb0:
        return this.#readBinary(apdu);
      default:
        return sw(SW.insNotSupported);
    }
  }

  #select(apdu: Uint8Array): Uint8Array {
    const p1 = apdu[2];
    const lc = apdu[4] ?? 0;
    const body = apdu.subarray(5, 5 + lc);
    if (body.length !== lc) return sw(SW.wrongLength);
    if (p1 === 0x04) {
      if (this.image.mfAid && equal(this.image.mfAid, body)) {
        this.#sel = { app: undefined, ef: undefined };
        return sw(SW.ok);
      }
      const app = this.image.applications.find((a) => equal(a.aid, body));
      if (!app) return sw(SW.fileNotFound);
      this.#sel = { app, ef: app.implicitFile ? app.files[0] : undefined };
      return sw(SW.ok);
    }
    if (p1 === 0x02 || p1 === 0x00) {
      const fid = ((body[0] ?? 0) << 8) | (body[1] ?? 0);
      if (fid === 0x3f00) {
        this.#sel = { app: undefined, ef: undefined };
        return sw(SW.ok);
      }
      const ef = this.#files().find((f) => f.fid === fid);
      if (!ef) return sw(SW.fileNotFound);
      this.#sel = { ...this.#sel, ef };
      return sw(SW.ok);
    }
    return sw(0x6a86);
  }

  #files(): SimFile[] {
    return this.#sel.app ? this.#sel.app.files : this.image.mf;
  }

  #readBinary(apdu: Uint8Array): Uint8Array {
    const p1 = apdu[2] as number;
    const p2 = apdu[3] as number;
    let le: number;
    if (apdu.length === 5) le = apdu[4] === 0 ? 256 : (apdu[4] as number);
    else if (apdu.length === 7 && apdu[4] === 0) {
      if (!this.image.extendedLength) return sw(SW.wrongLength);
      const v = ((apdu[5] as number) << 8) | (apdu[6] as number);
      le = v === 0 ? 65536 : v;
    } else return sw(SW.wrongLength);

    let offset: number;
    if (p1 & 0x80) {
      const sfi = p1 & 0x1f;
      const ef = this.#files().find((f) => f.sfi === sfi);
      if (!ef) return sw(SW.fileNotFound);
      this.#sel = { ...this.#sel, ef };
      offset = p2;
    } else {
      if (!this.#sel.ef) return sw(SW.noCurrentEf);
      offset = ((p1 & 0x7f) << 8) | p2;
    }
    const data = (this.#sel.ef as SimFile).data;
    if (offset > data.length) return sw(SW.wrongOffset);
    const chunk = data.subarray(offset, Math.min(data.length, offset + le));
    return sw(chunk.length < le ? SW.endOfFile : SW.ok, chunk);
  }
}
