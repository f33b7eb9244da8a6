import type { Clock } from '../core/clock.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import type { AppendOptions } from './outbox-event.js';

interface Waiter {
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface CapacityGateDeps {
  maxBytes: number;
  clock: Clock;
  /** Bytes stored and not yet delivered (the gate adds the bytes it admitted but not yet stored). */
  stored: () => number;
  onPressure?: (full: boolean) => void;
}

/**
 * The outbox's backpressure: admits an event's bytes only while stored + admitted stays under the
 * cap. A producer that does not fit fails at once with OutboxFull, or waits (bounded, FIFO so a large
 * event is not starved by small ones) — never a silent drop. Reports full/not full on changes.
 */
export class CapacityGate {
  readonly #deps: CapacityGateDeps;
  readonly #waiters: Waiter[] = [];
  #admitted = 0;
  #full = false;

  constructor(deps: CapacityGateDeps) {
    this.#deps = deps;
  }

  get full(): boolean {
    return this.#full;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  async admit(bytes: number, { waitMs = 0, signal }: AppendOptions): Promise<void> {
    if (this.#waiters.length === 0 && this.#fits(bytes)) {
      this.#admitted += bytes;
      return;
    }
    this.#setFull(true);
    if (waitMs <= 0) throw this.#fullError();
    await new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        resolve: () => {
          cleanup();
          resolve();
        },
        reject: (err) => {
          cleanup();
          reject(err);
        },
      };
      const timer = this.#deps.clock.setTimeout(() => waiter.reject(this.#fullError()), waitMs);
      const onAbort = (): void => waiter.reject(signal?.reason);
      const cleanup = (): void => {
        this.#deps.clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Admitted bytes were stored (now counted by `stored`) or their write failed. */
  settle(bytes: number): void {
    this.#admitted -= bytes;
  }

  /** Room may have appeared (acks, writes): let waiting producers in, in order. */
  release(): void {
    while (this.#waiters.length > 0) {
      const next = this.#waiters[0];
      if (!next || !this.#fits(next.bytes)) break;
      this.#admitted += next.bytes;
      next.resolve();
    }
    if (this.#waiters.length === 0 && this.#fits(0)) this.#setFull(false);
  }

  rejectAll(err: unknown): void {
    for (const w of [...this.#waiters]) w.reject(err);
  }

  #fits(bytes: number): boolean {
    return this.#deps.stored() + this.#admitted + bytes <= this.#deps.maxBytes;
  }

  #fullError(): PraxisboxError {
    return new PraxisboxError(
      ErrorCode.OutboxFull,
      `outbox full (${this.#deps.stored()} of ${this.#deps.maxBytes} bytes undelivered); the event was not accepted, keep it and retry`,
    );
  }

  #setFull(full: boolean): void {
    if (this.#full === full) return;
    this.#full = full;
    this.#deps.onPressure?.(full);
  }
}
