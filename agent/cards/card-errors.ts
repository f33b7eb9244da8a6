import { ErrorCode, PraxisboxError } from '../core/errors.js';

/**
 * Why a card could not be read, as reported in `card.error.code`. Stable strings: the cloud and the
 * web UI switch on them.
 */
export const CardErrorCode = {
  /** The card left the terminal before the read completed. */
  removed: 'card-removed',
  /** The card or terminal failed to answer (transmit errors, error status words after retries). */
  unreadable: 'unreadable',
  /** Neither an eGK nor a KVK/PKV memory card (SELECT of every known application failed). */
  unsupported: 'unsupported-card',
  /** The card answered, but its data is broken: gzip, XML, schema, checksum-less garbage, limits. */
  invalidData: 'invalid-data',
  /** The terminal took longer than the configured limit. */
  timeout: 'timeout',
} as const;
export type CardErrorCode = (typeof CardErrorCode)[keyof typeof CardErrorCode];

const PRAXISBOX_CODE: Record<CardErrorCode, ErrorCode> = {
  'card-removed': ErrorCode.DeviceUnavailable,
  unreadable: ErrorCode.DeviceUnavailable,
  'unsupported-card': ErrorCode.InvalidInput,
  'invalid-data': ErrorCode.Corrupt,
  timeout: ErrorCode.Timeout,
};

/**
 * A failed card read. The message names the file, field or limit that failed — never a value read
 * from the card — so it can go into `card.error`, logs and command replies as it is.
 */
export class CardReadError extends PraxisboxError {
  readonly cardCode: CardErrorCode;

  constructor(cardCode: CardErrorCode, message: string, options?: { cause?: unknown }) {
    super(PRAXISBOX_CODE[cardCode], message, options);
    this.cardCode = cardCode;
  }
}

export const invalidCardData = (message: string, cause?: unknown): CardReadError =>
  new CardReadError(CardErrorCode.invalidData, message, cause === undefined ? undefined : { cause });

export function isCardReadError(err: unknown): err is CardReadError {
  return err instanceof CardReadError;
}
