import { ErrorCode, PraxisboxError } from '../core/errors.js';

/**
 * The seam to PC/SC: the only things the cards module needs from the native binding. `driver.ts`
 * implements it with `smartcard` (and is the only file importing it); tests use pcscd + vpcd through
 * that driver, or a typed fake of this interface.
 */

/** The pseudo reader whose state changes when readers come and go (PC/SC "PnP notification"). */
export const PNP_NOTIFICATION = '\\\\?PnP?\\Notification';

/** What the caller knows about a reader; `state` is passed back unchanged to wait for the next change. */
export interface KnownReader {
  name: string;
  state: number;
}

export interface ReaderStatus {
  name: string;
  /** Raw PC/SC event state without the CHANGED bit: hand it back as the known state. */
  state: number;
  changed: boolean;
  present: boolean;
  /** The card is in the reader but does not answer to reset. */
  mute: boolean;
  /** The reader is gone (or unknown to the service). */
  gone: boolean;
  /** pcsc-lite counts card events per reader in the high word: a change while present means a swap. */
  eventCount: number;
  atr?: Uint8Array;
}

export type WaitResult = ReaderStatus[] | 'timeout' | 'cancelled';

export interface PcscContext {
  /** Readers known to the service now, with their current state. */
  readers(): ReaderStatus[];
  /** Resolves when any of `known` changes state, after `timeoutMs`, or when `cancel` is called. */
  waitForChange(known: readonly KnownReader[], timeoutMs: number): Promise<WaitResult>;
  cancel(): void;
  connect(reader: string): Promise<PcscCard>;
  close(): void;
}

export interface PcscCard {
  readonly atr: Uint8Array | undefined;
  transmit(apdu: Uint8Array, maxResponseBytes: number): Promise<Uint8Array>;
  /** Warm reset (async): the card starts over in its MF. */
  reset(): Promise<void>;
  /** Leaves the card powered (no synchronous reset round trip on the event loop). */
  disconnect(): void;
}

export interface PcscDriver {
  /** Connects to the PC/SC service. Throws PcscError('no-service') when it is not running. */
  establish(): Promise<PcscContext>;
}

/** What went wrong in a PC/SC call, from the service's error code (messages of the binding). */
export type PcscFailure =
  | 'no-service'
  | 'removed'
  | 'no-card'
  | 'reader-unavailable'
  | 'sharing-violation'
  | 'timeout'
  | 'cancelled'
  /** Transmit failed without saying why: a pulled card looks exactly like this (measured). */
  | 'transaction-failed'
  | 'unresponsive'
  | 'binding-missing'
  | 'other';

export class PcscError extends PraxisboxError {
  readonly failure: PcscFailure;

  constructor(failure: PcscFailure, message: string, options?: { cause?: unknown }) {
    super(ErrorCode.DeviceUnavailable, message, options);
    this.failure = failure;
  }
}

export function isPcscError(err: unknown): err is PcscError {
  return err instanceof PcscError;
}
