import { backoffDelay, sleep, type Clock } from '../core/clock.js';
import { describeError, ErrorCode, isPraxisboxError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Outbox } from '../outbox/outbox-event.js';
import type { CardEventBus, CardEventMap, CardEventType } from './card-events.js';

export interface CardEventSinkDeps {
  outbox: Outbox;
  bus?: CardEventBus;
  log: Logger;
  clock: Clock;
  /** Events held while the outbox refuses (full or restarting); beyond this the oldest are dropped. */
  maxPending?: number;
}

/**
 * Appends card events to the outbox strictly in the order they were emitted. An event is handed to
 * live listeners at once and to the outbox in sequence; while the outbox refuses (full, or its module
 * restarting) the sink keeps the events and retries with backoff, so a card read at reception is not
 * lost to a momentary outbox problem.
 */
export class CardEventSink {
  readonly #deps: CardEventSinkDeps;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  #dropped = 0;
  readonly #abort = new AbortController();

  constructor(deps: CardEventSinkDeps) {
    this.#deps = deps;
  }

  get pending(): number {
    return this.#pending;
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Resolves when the event is durable in the outbox (or was given up: stop, overflow). */
  emit<K extends CardEventType>(type: K, data: CardEventMap[K]): Promise<void> {
    this.#deps.bus?.emit(type, data);
    const max = this.#deps.maxPending ?? 200;
    if (this.#pending >= max) {
      this.#dropped += 1;
      this.#deps.log.error({ event: type, pending: this.#pending }, `card event ${type} dropped: ${max} events already wait for the outbox`);
      return Promise.resolve();
    }
    this.#pending += 1;
    const run = this.#tail.then(() => this.#append(type, data));
    this.#tail = run.finally(() => {
      this.#pending -= 1;
    });
    return run;
  }

  async #append(type: string, data: unknown): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.#abort.signal.aborted) return;
      try {
        await this.#deps.outbox.append(type, data);
        return;
      } catch (err) {
        const retryable = isPraxisboxError(err) && (err.code === ErrorCode.DeviceUnavailable || err.code === ErrorCode.OutboxFull);
        if (!retryable) {
          this.#deps.log.error({ event: type, err }, `card event ${type} not stored: ${describeError(err)}`);
          return;
        }
        const delay = backoffDelay(attempt, 200, 5_000);
        if (attempt === 0) this.#deps.log.warn({ event: type }, `outbox refuses card event ${type} (${describeError(err)}); retrying`);
        try {
          await sleep(this.#deps.clock, delay, this.#abort.signal);
        } catch {
          return;
        }
      }
    }
  }

  /** Waits until everything emitted so far is stored, at most `timeoutMs`; then gives up the rest. */
  async close(timeoutMs: number): Promise<void> {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    await Promise.race([
      this.#tail,
      new Promise<void>((resolve) => {
        timer = this.#deps.clock.setTimeout(resolve, timeoutMs);
      }),
    ]);
    if (timer) this.#deps.clock.clearTimeout(timer);
    if (this.#pending > 0) this.#deps.log.error({ pending: this.#pending }, `${this.#pending} card events not stored at stop`);
    this.#abort.abort();
  }
}
