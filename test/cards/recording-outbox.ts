import { FileOutbox } from '../../agent/outbox/file-outbox.js';
import type { AppendOptions, Outbox, OutboxEvent, OutboxStats, RawOutboxEvent } from '../../agent/outbox/outbox-event.js';
import { revealDeep } from '../../agent/core/patient-data.js';
import { systemClock } from '../../agent/core/clock.js';
import type { Logger } from '../../agent/core/logger.js';

export interface Recorded {
  type: string;
  /** As stored (PatientData revealed), parsed back like the cloud would see it. */
  data: Record<string, unknown>;
  /** The value handed to append (PatientData still wrapped). */
  raw: unknown;
  /** When the append resolved (durable), performance.now(). */
  durableAt: number;
  seq: number;
}

type Waiter = { match: (e: Recorded) => boolean; resolve: (e: Recorded) => void; after: number };

/**
 * A real FileOutbox that also remembers what was appended (and when it became durable), so tests can
 * wait for "the next card.read on terminal X" and inspect the payload as the cloud would get it.
 */
export class RecordingOutbox implements Outbox {
  readonly events: Recorded[] = [];
  readonly #inner: FileOutbox;
  readonly #retain: boolean;
  #waiters: Waiter[] = [];
  /** Events appended so far (also when not retained). */
  count = 0;

  private constructor(inner: FileOutbox, retain: boolean) {
    this.#inner = inner;
    this.#retain = retain;
  }

  /** `retain: false` keeps no history (long soak runs): `next` then only sees events still to come. */
  static async open(dir: string, log: Logger, options: { retain?: boolean } = {}): Promise<RecordingOutbox> {
    const inner = await FileOutbox.open({ dir, maxBytes: 64 * 1024 * 1024, segmentBytes: 4 * 1024 * 1024, clock: systemClock, log });
    return new RecordingOutbox(inner, options.retain ?? true);
  }

  async append(type: string, data: unknown, options?: AppendOptions): Promise<OutboxEvent> {
    const event = await this.#inner.append(type, data, options);
    const rec: Recorded = {
      type,
      data: JSON.parse(JSON.stringify(revealDeep(data))) as Record<string, unknown>,
      raw: data,
      durableAt: performance.now(),
      seq: event.seq,
    };
    this.count += 1;
    if (this.#retain) this.events.push(rec);
    const index = this.#retain ? this.events.length - 1 : Number.MAX_SAFE_INTEGER;
    this.#waiters = this.#waiters.filter((w) => {
      if (index >= w.after && w.match(rec)) {
        w.resolve(rec);
        return false;
      }
      return true;
    });
    return event;
  }

  /** The next event (recorded from now on, or from `after`) matching, within `timeoutMs`. */
  next(match: (e: Recorded) => boolean, timeoutMs = 10_000, after = this.events.length): Promise<Recorded> {
    const existing = this.events.slice(after).find(match);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching event within ${timeoutMs} ms (have: ${this.events.slice(after).map((e) => e.type).join(', ')})`));
      }, timeoutMs);
      const done = (e: Recorded): void => {
        clearTimeout(timer);
        resolve(e);
      };
      this.#waiters.push({ match, resolve: done, after });
    });
  }

  pending(afterSeq: number, limit: number): Promise<OutboxEvent[]> {
    return this.#inner.pending(afterSeq, limit);
  }

  pendingRaw(afterSeq: number, limit: number): Promise<RawOutboxEvent[]> {
    return this.#inner.pendingRaw(afterSeq, limit);
  }

  ack(seq: number): Promise<void> {
    return this.#inner.ack(seq);
  }

  stats(): OutboxStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}

export const onTerminal = (type: string, terminalId: string) => (e: Recorded): boolean => e.type === type && e.data['terminalId'] === terminalId;
