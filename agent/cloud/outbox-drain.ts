import type { Outbox, RawOutboxEvent } from '../outbox/outbox-event.js';
import type { Logger } from '../core/logger.js';
import type { BoxTopics } from './topics.js';
import { splitIntoChunks } from './chunking.js';
import { describeError } from '../core/errors.js';

export interface OutboxDrainDeps {
  outbox: Outbox;
  topics: BoxTopics;
  /** QoS 1 publish; resolves on PUBACK, rejects when the connection is gone. */
  publish: (topic: string, payload: Buffer) => Promise<void>;
  window: number;
  maxMessageBytes: number;
  log: Logger;
  /** Called when a publish fails: the connection is unusable, the link reconnects. */
  onFailure: (reason: string) => void;
}

/**
 * Feeds undelivered events from the outbox to one MQTT connection, in seq order, with at most
 * `window` unacknowledged at a time; each is removed from the outbox on its PUBACK. One drain per
 * connection: a new connection starts again from the oldest undelivered event (at-least-once, the
 * cloud de-duplicates by id). Events larger than one message go as chunks; the event is removed only
 * when every chunk is acknowledged.
 */
export class OutboxDrain {
  readonly #deps: OutboxDrainDeps;
  #cursor = 0;
  #inflight = 0;
  #running = false;
  #wake: (() => void) | undefined;
  #published = 0;
  #acked = 0;
  #lastAckAt = 0;

  constructor(deps: OutboxDrainDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#running = false;
    this.#notify();
  }

  /** New events are durable in the outbox. */
  notify(): void {
    this.#notify();
  }

  stats(): { inflight: number; published: number; acked: number; lastAckAt: number } {
    return { inflight: this.#inflight, published: this.#published, acked: this.#acked, lastAckAt: this.#lastAckAt };
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async #loop(): Promise<void> {
    while (this.#running) {
      // Refill when half the window is free: batches of reads and publishes, not one at a time.
      const room = this.#inflight <= this.#deps.window / 2 ? this.#deps.window - this.#inflight : 0;
      let batch: RawOutboxEvent[] = [];
      if (room > 0) {
        try {
          batch = await this.#deps.outbox.pendingRaw(this.#cursor, room);
        } catch (err) {
          this.#deps.log.warn({ err }, `outbox drain paused: ${describeError(err)}`);
        }
      }
      if (batch.length === 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          // Also look again after a while: covers an outbox restart that reset its notifications.
          setTimeout(resolve, 1_000).unref();
        });
        continue;
      }
      for (const event of batch) {
        if (!this.#running) return;
        this.#cursor = event.seq;
        this.#inflight += 1;
        this.#published += 1;
        void this.#send(event).finally(() => {
          this.#inflight -= 1;
          this.#notify();
        });
      }
    }
  }

  async #send(event: RawOutboxEvent): Promise<void> {
    const payload = event.payload;
    const topic = this.#deps.topics.event(event.type);
    try {
      if (payload.length <= this.#deps.maxMessageBytes) {
        await this.#deps.publish(topic, payload);
      } else {
        const relative = topic.slice(this.#deps.topics.root.length);
        const chunks = splitIntoChunks(payload, relative, this.#deps.maxMessageBytes, event.id);
        for (const chunk of chunks) await this.#deps.publish(this.#deps.topics.eventChunk, Buffer.from(JSON.stringify(chunk)));
      }
    } catch (err) {
      if (this.#running) {
        this.#running = false;
        this.#deps.onFailure(`publishing event ${event.seq} failed: ${describeError(err)}`);
      }
      return;
    }
    this.#acked += 1;
    this.#lastAckAt = Date.now();
    await this.#deps.outbox.ack(event.seq).catch((err: unknown) => this.#deps.log.warn({ err }, 'outbox ack failed; the event will be sent again'));
  }
}
