import { AID_HCA, EGK_FILES, EXTENDED_READ_MAX, SHORT_READ_MAX, SW, type ResponseApdu } from './apdu.js';
import { invalidCardData } from './card-errors.js';
import { pdLength, vdOffsets } from './vsd-container.js';
import { isData, isSpurious, truncated, unreadable, type ApduMode, type CardIo } from './card-channel.js';

/**
 * The eGK's APDU plan once DF.HCA is selected: EF.StatusVD, EF.PD, EF.VD. Each file is read with as
 * few commands as the card allows — the first READ BINARY (by SFI) fetches the length header and as
 * much data as one response carries, the rest follows in offset reads — because every APDU through a
 * terminal costs tens of milliseconds. EF.GVD is never read (PIN/C2C-protected, and not needed).
 */
export interface EgkReadOptions {
  apduMode: ApduMode;
  /** Re-select-and-retry attempts per command after a spurious 6B00/6986. */
  retries: number;
}

export interface EgkFiles {
  statusVd: Uint8Array;
  /** The gzip member of EF.PD. */
  pd: Uint8Array;
  /** The gzip member of EF.VD (between the header's start and end offsets). */
  vd: Uint8Array;
  /** Whether extended-length reads worked (`undefined`: not tried). */
  extendedLength?: boolean;
}

interface FileSpec {
  sfi: number;
  fid: number;
  what: string;
}

const PD: FileSpec = { ...EGK_FILES.pd, what: 'EF.PD' };
const VD: FileSpec = { ...EGK_FILES.vd, what: 'EF.VD' };
/** Offset reads address at most 15 bits; larger claims in a header are garbage. */
const MAX_OFFSET = 0x7fff;

class EgkFileReader {
  readonly #io: CardIo;
  readonly #retries: number;
  chunk: number;

  constructor(io: CardIo, options: EgkReadOptions) {
    this.#io = io;
    this.#retries = options.retries;
    this.chunk = options.apduMode === 'short' ? SHORT_READ_MAX : EXTENDED_READ_MAX;
  }

  async #withRetry(attempt: () => Promise<ResponseApdu>, reselect: () => Promise<void>): Promise<ResponseApdu> {
    for (let i = 0; ; i++) {
      const r = await attempt();
      if (!isSpurious(r.sw) || i >= this.#retries) return r;
      await reselect();
    }
  }

  readonly #selectHca = async (): Promise<void> => {
    if (!(await this.#io.selectApplication(AID_HCA))) throw unreadable('DF.HCA', SW.fileNotFound);
  };

  firstRead(file: FileSpec, length: number): Promise<ResponseApdu> {
    return this.#withRetry(() => this.#io.readSfi(file.sfi, 0, length), this.#selectHca);
  }

  /** Reads `[have, needed)` of the file after a first read returned `first`. */
  async readRest(file: FileSpec, first: ResponseApdu, needed: number): Promise<Uint8Array> {
    if (needed > MAX_OFFSET + 1) throw invalidCardData(`${file.what}: header declares more data than the file can hold`);
    const out = new Uint8Array(needed);
    let have = Math.min(first.data.length, needed);
    out.set(first.data.subarray(0, have));
    let lastSw = first.sw;
    const reselect = async (): Promise<void> => {
      await this.#selectHca();
      await this.#io.selectFile(file.fid, file.what);
    };
    while (have < needed) {
      if (lastSw === SW.endOfFile) throw truncated(file.what);
      const offset = have;
      const r = await this.#withRetry(() => this.#io.read(offset, Math.min(this.chunk, needed - offset)), reselect);
      if (r.sw === SW.wrongOffset) throw truncated(file.what);
      if (!isData(r.sw)) throw unreadable(file.what, r.sw);
      if (r.data.length === 0) throw truncated(file.what);
      const n = Math.min(r.data.length, needed - have);
      out.set(r.data.subarray(0, n), have);
      have += n;
      lastSw = r.sw;
    }
    return out;
  }
}

function expectData(r: ResponseApdu, file: FileSpec, minBytes: number): void {
  if (!isData(r.sw)) throw unreadable(file.what, r.sw);
  if (r.data.length < minBytes) throw truncated(file.what);
}

/** Reads StatusVD, PD and VD; DF.HCA must be the current DF. */
export async function readEgkFiles(io: CardIo, options: EgkReadOptions): Promise<EgkFiles> {
  const reader = new EgkFileReader(io, options);
  const status: FileSpec = { ...EGK_FILES.statusVd, what: 'EF.StatusVD' };
  const statusResponse = await reader.firstRead(status, 25);
  expectData(statusResponse, status, 15);

  let extendedLength: boolean | undefined;
  let pdFirst: ResponseApdu;
  if (options.apduMode === 'auto') {
    // Probe once: readers without extended-length support answer 6700/6Cxx or fail the transmit.
    let probe: ResponseApdu | undefined;
    try {
      probe = await reader.firstRead(PD, EXTENDED_READ_MAX);
    } catch {
      probe = undefined;
    }
    if (probe && isData(probe.sw)) {
      extendedLength = true;
      pdFirst = probe;
    } else {
      extendedLength = false;
      reader.chunk = SHORT_READ_MAX;
      if (!probe && !(await io.selectApplication(AID_HCA))) throw unreadable('DF.HCA', SW.fileNotFound);
      pdFirst = await reader.firstRead(PD, SHORT_READ_MAX);
    }
  } else {
    pdFirst = await reader.firstRead(PD, reader.chunk);
    if (options.apduMode === 'extended') extendedLength = isData(pdFirst.sw);
  }
  expectData(pdFirst, PD, 2);
  const pdAll = await reader.readRest(PD, pdFirst, 2 + pdLength(pdFirst.data));

  const vdFirst = await reader.firstRead(VD, reader.chunk);
  expectData(vdFirst, VD, 8);
  const { start, end } = vdOffsets(vdFirst.data);
  const vdAll = await reader.readRest(VD, vdFirst, end + 1);

  const files: EgkFiles = { statusVd: statusResponse.data, pd: pdAll.subarray(2), vd: vdAll.subarray(start) };
  if (extendedLength !== undefined) files.extendedLength = extendedLength;
  return files;
}
