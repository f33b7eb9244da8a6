import { parseResponse, readBinary, readBinarySfi, selectAid, selectEf, SW, swHex, type ResponseApdu } from './apdu.js';
import { CardErrorCode, CardReadError, invalidCardData } from './card-errors.js';

/**
 * The one thing the card readers need from a terminal: send a command APDU, get the response APDU
 * (data + SW1 SW2). PC/SC cards, the simulator's in-memory card and test fakes all provide it.
 */
export interface CardChannel {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

/** How READ BINARY is chunked. */
export type ApduMode = 'short' | 'extended' | 'auto';

/** Wraps a channel with status-word handling, the re-select-and-retry rule and an APDU count. */
export class CardIo {
  readonly #channel: CardChannel;
  apdus = 0;

  constructor(channel: CardChannel) {
    this.#channel = channel;
  }

  async send(apdu: Uint8Array): Promise<ResponseApdu> {
    this.apdus += 1;
    return parseResponse(await this.#channel.transmit(apdu));
  }

  /** SELECT by AID; true on 9000, false when the application is not on the card. */
  async selectApplication(aid: Uint8Array): Promise<boolean> {
    const r = await this.send(selectAid(aid));
    return r.sw === SW.ok || r.sw === SW.fileDeactivated;
  }

  async selectFile(fid: number, what: string): Promise<void> {
    const r = await this.send(selectEf(fid));
    if (r.sw !== SW.ok) throw unreadable(what, r.sw);
  }

  readSfi(sfi: number, offset: number, length: number): Promise<ResponseApdu> {
    return this.send(readBinarySfi(sfi, offset, length));
  }

  read(offset: number, length: number): Promise<ResponseApdu> {
    return this.send(readBinary(offset, length));
  }
}

export function unreadable(what: string, sw: number): CardReadError {
  if (sw === SW.securityStatus) return new CardReadError(CardErrorCode.unreadable, `${what}: access denied by the card (${swHex(sw)})`);
  if (sw === SW.fileNotFound) return new CardReadError(CardErrorCode.unreadable, `${what}: file not found on the card (${swHex(sw)})`);
  return new CardReadError(CardErrorCode.unreadable, `${what}: card answered ${swHex(sw)}`);
}

/** True for the status words some readers return spuriously mid-file (domain notes §3). */
export const isSpurious = (sw: number): boolean => sw === SW.wrongOffset || sw === SW.noCurrentEf;

/** A read answered with data: 9000, or 6282 when the file ended before Le bytes. */
export const isData = (sw: number): boolean => sw === SW.ok || sw === SW.endOfFile;

export function truncated(what: string): CardReadError {
  return invalidCardData(`${what}: file ends before the length its header declares`);
}
