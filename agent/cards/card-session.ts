import type { Clock } from '../core/clock.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { patientData } from '../core/patient-data.js';
import type { ApduMode, CardChannel } from './card-channel.js';
import { CardErrorCode, isCardReadError } from './card-errors.js';
import type { DetectedCardType, TerminalRef } from './card-events.js';
import { readCard, type CardReadOutcome } from './card-reader.js';
import type { CardEventSink } from './event-sink.js';
import { isPcscError, PcscError, type PcscCard, type PcscContext } from './pcsc-driver.js';

/** Room for the largest extended-length response (64 KiB + SW1 SW2). */
const MAX_RESPONSE = 0x10002;

export interface CardSessionDeps {
  /**
   * Opens the session's own PC/SC context: pcsc-lite serialises all calls on one context, so a
   * session sharing the monitor's context would wait behind its blocking SCardGetStatusChange.
   */
  openContext: () => Promise<PcscContext>;
  readerName: string;
  terminal: TerminalRef;
  insertionId: string;
  apduMode: ApduMode;
  retries: number;
  apduTimeoutMs: number;
  removalGraceMs: number;
  /** Aborted when the monitor reports the card removed. */
  removal: AbortSignal;
  /** First read after insertion announces the card; a re-read does not. */
  announce: boolean;
  /** A re-read starts with a warm reset, so the card is back in its MF. */
  resetFirst: boolean;
  clock: Clock;
  log: Logger;
  sink: CardEventSink;
  today: () => string;
  /** Start of the measured read time (the insertion notice or the command). */
  startedAt: number;
  /** Told the card type as soon as it is known (for status views). */
  onDetected?: (type: DetectedCardType) => void;
}

export type SessionOutcome =
  | { kind: 'read'; cardType: DetectedCardType; readMs: number; apdus: number; extendedLength?: boolean }
  | { kind: 'error'; cardType: DetectedCardType; code: CardErrorCode; message: string };

/**
 * One read of the card in one reader: connect, detect, read, decode, emit. The session emits
 * `card.inserted` once the card type is known and then exactly one of `card.read` (complete record)
 * or `card.error`; it never throws.
 */
export async function runCardSession(deps: CardSessionDeps): Promise<SessionOutcome> {
  const { terminal, insertionId, sink, log } = deps;
  let cardType: DetectedCardType = 'unknown';
  let announced = !deps.announce;
  const announce = (): void => {
    if (announced) return;
    announced = true;
    void sink.emit('card.inserted', { ...terminal, insertionId, cardType });
  };

  let context: PcscContext | undefined;
  let card: PcscCard | undefined;
  let inflight: Promise<unknown> = Promise.resolve();
  let outcome: CardReadOutcome;
  try {
    context = await deps.openContext();
    let abandoned = false;
    const connecting = context.connect(deps.readerName);
    // A connect that completes after we gave up must still be released.
    inflight = connecting.then(
      (late) => (abandoned ? late.disconnect() : undefined),
      () => undefined,
    );
    try {
      card = await bounded(connecting, deps, 'connect');
    } catch (err) {
      abandoned = true;
      throw err;
    }
    const connected = card;
    if (deps.resetFirst) {
      const resetting = connected.reset();
      inflight = resetting.catch(() => undefined);
      await bounded(resetting, deps, 'reset');
    }
    const channel: CardChannel = {
      async transmit(apdu) {
        const sent = connected.transmit(apdu, MAX_RESPONSE);
        inflight = sent.catch(() => undefined);
        const response = await bounded(sent, deps, 'transmit');
        // vpcd (and some drivers) report success with no bytes when the card vanished mid-command.
        if (response.length < 2) throw new PcscError('transaction-failed', 'PC/SC transmit returned no status word');
        return response;
      },
    };
    outcome = await readCard(channel, {
      source: terminal.source,
      apduMode: deps.apduMode,
      retries: deps.retries,
      today: deps.today(),
      onDetected: (type) => {
        cardType = type;
        deps.onDetected?.(type);
        announce();
      },
    });
  } catch (err) {
    const { code, message } = await classify(err, deps);
    release(context, card, inflight);
    announce();
    const level = code === CardErrorCode.removed ? 'info' : 'warn';
    log[level]({ terminalId: terminal.terminalId, cardType, code, err }, `card in ${terminal.terminalId} not read: ${message}`);
    await sink.emit('card.error', { ...terminal, insertionId, cardType, code, message });
    return { kind: 'error', cardType, code, message };
  }
  release(context, card, inflight);
  const { record } = outcome;
  const readMs = deps.clock.now() - deps.startedAt;
  await sink.emit('card.read', {
    ...terminal,
    insertionId,
    cardType: record.cardType,
    card: record.card,
    person: patientData(record.person),
    coverage: patientData(record.coverage),
    status: record.status,
    warnings: record.warnings,
    readMs,
  });
  log.info(
    { terminalId: terminal.terminalId, cardType: record.cardType, apdus: outcome.apdus, readMs, warnings: record.warnings.map((w) => w.code) },
    `card in ${terminal.terminalId} read (${record.cardType}, ${outcome.apdus} commands, ${readMs} ms)`,
  );
  const result: SessionOutcome = { kind: 'read', cardType: record.cardType, readMs, apdus: outcome.apdus };
  if (outcome.extendedLength !== undefined) result.extendedLength = outcome.extendedLength;
  return result;
}

/** Never disconnect while a transmit (or connect) is still inside a native worker. */
function release(context: PcscContext | undefined, card: PcscCard | undefined, inflight: Promise<unknown>): void {
  void inflight.then(() => {
    card?.disconnect();
    context?.close();
  });
}

/** Races a PC/SC call against the per-command limit and the card's removal. */
function bounded<T>(work: Promise<T>, deps: CardSessionDeps, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (deps.removal.aborted) {
      work.catch(() => undefined);
      reject(new PcscError('removed', `PC/SC ${what} abandoned: card removed`));
      return;
    }
    const onRemoved = (): void => {
      deps.clock.clearTimeout(timer);
      reject(new PcscError('removed', `PC/SC ${what} abandoned: card removed`));
    };
    const timer = deps.clock.setTimeout(() => {
      deps.removal.removeEventListener('abort', onRemoved);
      reject(new PcscError('timeout', `PC/SC ${what} took longer than ${deps.apduTimeoutMs} ms`));
    }, deps.apduTimeoutMs);
    deps.removal.addEventListener('abort', onRemoved, { once: true });
    work.then(
      (v) => {
        deps.clock.clearTimeout(timer);
        deps.removal.removeEventListener('abort', onRemoved);
        resolve(v);
      },
      (err: unknown) => {
        deps.clock.clearTimeout(timer);
        deps.removal.removeEventListener('abort', onRemoved);
        reject(err);
      },
    );
  });
}

/** Resolves true when the card's removal is (or becomes, within `ms`) known. */
function removedWithin(deps: CardSessionDeps, ms: number): Promise<boolean> {
  if (deps.removal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onRemoved = (): void => {
      deps.clock.clearTimeout(timer);
      resolve(true);
    };
    const timer = deps.clock.setTimeout(() => {
      deps.removal.removeEventListener('abort', onRemoved);
      resolve(false);
    }, ms);
    deps.removal.addEventListener('abort', onRemoved, { once: true });
  });
}

async function classify(err: unknown, deps: CardSessionDeps): Promise<{ code: CardErrorCode; message: string }> {
  if (isCardReadError(err)) {
    // A card pulled mid-read may answer an error status first: the removal notice decides.
    const wait = err.cardCode === CardErrorCode.unreadable ? deps.removalGraceMs : 0;
    if (await removedWithin(deps, wait)) return { code: CardErrorCode.removed, message: 'the card was removed during the read' };
    return { code: err.cardCode, message: err.message };
  }
  if (!isPcscError(err)) {
    deps.log.error({ terminalId: deps.terminal.terminalId, err }, `unexpected failure while reading a card: ${describeError(err)}`);
    return { code: CardErrorCode.unreadable, message: 'the card could not be read (internal error)' };
  }
  switch (err.failure) {
    case 'removed':
    case 'no-card':
      return { code: CardErrorCode.removed, message: 'the card was removed during the read' };
    case 'timeout':
      return { code: CardErrorCode.timeout, message: `the terminal did not answer within ${deps.apduTimeoutMs} ms` };
    case 'no-service':
      return { code: CardErrorCode.unreadable, message: 'the PC/SC service went away during the read' };
    case 'sharing-violation':
      return { code: CardErrorCode.unreadable, message: 'the card is in use by another application' };
    default:
      // A failed transmit looks the same whether the card was pulled or broke: wait for the notice.
      if (await removedWithin(deps, deps.removalGraceMs)) return { code: CardErrorCode.removed, message: 'the card was removed during the read' };
      return { code: CardErrorCode.unreadable, message: `the terminal failed to talk to the card (${err.failure})` };
  }
}
