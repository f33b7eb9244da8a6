import type * as Smartcard from 'smartcard';
import {
  PcscError,
  type KnownReader,
  type PcscCard,
  type PcscContext,
  type PcscDriver,
  type PcscFailure,
  type ReaderStatus,
  type WaitResult,
} from './pcsc-driver.js';

/**
 * The PC/SC driver over `smartcard` (N-API, builds against pcsc-lite) — the only file that imports
 * the native binding. It is loaded on first use, not at import time, so a box whose binding failed to
 * build still starts every other module and reports the cards module unavailable with the reason.
 *
 * Reader monitoring uses the binding's async `waitForChange` (one worker per pending wait) rather than
 * its `ReaderMonitor` thread: that thread sleeps a full second after each error, and stopping it then
 * blocks the event loop in `join()` — exactly when pcscd restarts and the monitor must be recreated.
 */
type Binding = typeof Smartcard;

let binding: Promise<Binding> | undefined;

function loadBinding(): Promise<Binding> {
  binding ??= import('smartcard').catch((err: unknown) => {
    binding = undefined;
    throw new PcscError('binding-missing', 'the PC/SC binding (smartcard) could not be loaded', { cause: err });
  });
  return binding;
}

// Messages of smartcard's pcsc_errors.h, mapped to what the callers need to decide.
const FAILURES: ReadonlyArray<[RegExp, PcscFailure]> = [
  [/service not running|service stopped|invalid handle|context is not valid/i, 'no-service'],
  [/card was removed|card is not connected/i, 'removed'],
  [/no smart card present/i, 'no-card'],
  [/reader unavailable|unknown reader/i, 'reader-unavailable'],
  [/sharing violation/i, 'sharing-violation'],
  [/timed out/i, 'timeout'],
  [/cancelled/i, 'cancelled'],
  [/transaction failed/i, 'transaction-failed'],
  [/unresponsive|unpowered|was reset|communication error/i, 'unresponsive'],
];

/** Wraps a binding error; the binding's text is fixed per PC/SC code, so it is safe to keep. */
export function toPcscError(err: unknown, during: string): PcscError {
  if (err instanceof PcscError) return err;
  const text = err instanceof Error ? err.message : String(err);
  const failure = FAILURES.find(([re]) => re.test(text))?.[1] ?? 'other';
  return new PcscError(failure, `PC/SC ${during} failed: ${failure}`, { cause: err });
}

function statusOf(b: Binding, name: string, state: number, atr: Buffer | null | undefined): ReaderStatus {
  const status: ReaderStatus = {
    name,
    state: state & ~b.SCARD_STATE_CHANGED,
    changed: (state & b.SCARD_STATE_CHANGED) !== 0,
    present: (state & b.SCARD_STATE_PRESENT) !== 0,
    mute: (state & b.SCARD_STATE_MUTE) !== 0,
    gone: (state & (b.SCARD_STATE_UNKNOWN | b.SCARD_STATE_UNAVAILABLE)) !== 0,
    eventCount: (state >>> 16) & 0xffff,
  };
  if (atr && atr.length > 0) status.atr = Uint8Array.from(atr);
  return status;
}

class SmartcardCard implements PcscCard {
  readonly #b: Binding;
  readonly #card: Smartcard.CardInterface;
  readonly atr: Uint8Array | undefined;

  constructor(b: Binding, card: Smartcard.CardInterface, atr: Uint8Array | undefined) {
    this.#b = b;
    this.#card = card;
    this.atr = atr;
  }

  async transmit(apdu: Uint8Array, maxResponseBytes: number): Promise<Uint8Array> {
    try {
      return await this.#card.transmit(Buffer.from(apdu), { maxRecvLength: maxResponseBytes });
    } catch (err) {
      throw toPcscError(err, 'transmit');
    }
  }

  async reset(): Promise<void> {
    try {
      await this.#card.reconnect(this.#b.SCARD_SHARE_SHARED, this.#b.SCARD_PROTOCOL_T0 | this.#b.SCARD_PROTOCOL_T1, this.#b.SCARD_RESET_CARD);
    } catch (err) {
      throw toPcscError(err, 'reset');
    }
  }

  disconnect(): void {
    try {
      this.#card.disconnect(this.#b.SCARD_LEAVE_CARD);
    } catch {
      // Already gone with the card or the service: nothing left to release.
    }
  }
}

class SmartcardContext implements PcscContext {
  readonly #b: Binding;
  readonly #ctx: Smartcard.ContextInterface;

  constructor(b: Binding, ctx: Smartcard.ContextInterface) {
    this.#b = b;
    this.#ctx = ctx;
  }

  readers(): ReaderStatus[] {
    try {
      return this.#ctx.listReaders().map((r) => statusOf(this.#b, r.name, r.state, r.atr));
    } catch (err) {
      throw toPcscError(err, 'list readers');
    }
  }

  async waitForChange(known: readonly KnownReader[], timeoutMs: number): Promise<WaitResult> {
    let result: Smartcard.ReaderState[] | null;
    try {
      result = await this.#ctx.waitForChange(
        known.map((k) => ({ name: k.name, state: k.state, changed: false, atr: null })),
        timeoutMs,
      );
    } catch (err) {
      throw toPcscError(err, 'wait for change');
    }
    if (result === null) return 'cancelled';
    if (result.length === 0) return 'timeout';
    return result.map((r) => statusOf(this.#b, r.name, r.state, r.atr));
  }

  cancel(): void {
    try {
      this.#ctx.cancel();
    } catch {
      // A dead context has nothing to cancel.
    }
  }

  async connect(reader: string): Promise<PcscCard> {
    const b = this.#b;
    try {
      const r = this.#ctx.listReaders().find((x) => x.name === reader);
      if (!r) throw new PcscError('reader-unavailable', 'PC/SC connect failed: reader-unavailable');
      let card: Smartcard.CardInterface;
      try {
        card = await r.connect(b.SCARD_SHARE_SHARED, b.SCARD_PROTOCOL_T0 | b.SCARD_PROTOCOL_T1);
      } catch (err) {
        // Some cards do not answer when T=1 is offered too (smartcard issue #34): retry with T=0 alone.
        if (!/unresponsive/i.test(err instanceof Error ? err.message : '')) throw err;
        card = await r.connect(b.SCARD_SHARE_SHARED, b.SCARD_PROTOCOL_T0);
      }
      const atr = r.atr && r.atr.length > 0 ? Uint8Array.from(r.atr) : undefined;
      return new SmartcardCard(b, card, atr);
    } catch (err) {
      throw toPcscError(err, 'connect');
    }
  }

  close(): void {
    try {
      this.#ctx.close();
    } catch {
      // Releasing a context of a dead service fails; the handle is gone either way.
    }
  }
}

/** The driver the agent uses; `establish` loads the binding on first call. */
export function createPcscDriver(): PcscDriver {
  return {
    async establish(): Promise<PcscContext> {
      const b = await loadBinding();
      let ctx: Smartcard.ContextInterface;
      try {
        ctx = new b.Context();
      } catch (err) {
        throw toPcscError(err, 'establish context');
      }
      return new SmartcardContext(b, ctx);
    },
  };
}
