import type { AgentModule, CommandTable, HealthReport } from '../core/module.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/clock.js';
import type { EventBus } from '../core/bus.js';
import type { AgentEvents } from '../core/events.js';
import type { Config } from '../config/schema.js';
import { ErrorCode, PraxisboxError } from '../core/errors.js';
import { FileOutbox } from './file-outbox.js';
import type { AppendOptions, Outbox, OutboxEvent, OutboxStats, RawOutboxEvent } from './outbox-event.js';

export interface OutboxModuleDeps {
  dir: string;
  config: () => Config;
  log: Logger;
  clock: Clock;
  bus: EventBus<AgentEvents>;
}

/**
 * Owns the durable outbox's lifecycle and health. Other modules hold this object as their `Outbox`:
 * while the store is closed (module unavailable or restarting) appends fail with DeviceUnavailable,
 * so producers keep their input and retry, exactly as when the outbox is full.
 */
export class OutboxModule implements AgentModule, Outbox {
  readonly name = 'outbox';
  readonly critical = true;
  readonly configSections = ['outbox'];
  readonly #deps: OutboxModuleDeps;
  #store: FileOutbox | undefined;

  constructor(deps: OutboxModuleDeps) {
    this.#deps = deps;
  }

  async start(): Promise<void> {
    const { outbox } = this.#deps.config();
    this.#store = await FileOutbox.open({
      dir: this.#deps.dir,
      maxBytes: outbox.maxBytes,
      segmentBytes: outbox.segmentBytes,
      clock: this.#deps.clock,
      log: this.#deps.log,
      onAppended: (seq, type) => this.#deps.bus.emit('outbox.appended', { seq, type }),
      onPressure: (full) => {
        this.#deps.log[full ? 'error' : 'info']({ full }, full ? 'outbox full: producers get backpressure' : 'outbox accepts events again');
        this.#deps.bus.emit('outbox.pressure', { full });
      },
    });
  }

  async stop(): Promise<void> {
    const store = this.#store;
    this.#store = undefined;
    await store?.close();
  }

  #open(): FileOutbox {
    if (!this.#store) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'outbox is not open');
    return this.#store;
  }

  append(type: string, data: unknown, options?: AppendOptions): Promise<OutboxEvent> {
    return this.#open().append(type, data, options);
  }

  pending(afterSeq: number, limit: number): Promise<OutboxEvent[]> {
    return this.#open().pending(afterSeq, limit);
  }

  pendingRaw(afterSeq: number, limit: number): Promise<RawOutboxEvent[]> {
    return this.#open().pendingRaw(afterSeq, limit);
  }

  async ack(seq: number): Promise<void> {
    await this.#open().ack(seq);
    this.#deps.bus.emit('outbox.acked', { seq });
  }

  stats(): OutboxStats {
    return this.#open().stats();
  }

  close(): Promise<void> {
    return this.stop();
  }

  status(): Record<string, unknown> {
    const stats = this.#store?.stats();
    if (!stats) return { open: false };
    return { ...stats, oldestAgeSeconds: this.#oldestAgeSeconds(stats), problems: this.#store?.problems ?? [] };
  }

  healthcheck(): HealthReport {
    const store = this.#store;
    if (!store) return { level: 'fault', reason: 'outbox is not open' };
    const stats = store.stats();
    const { maxAgeHours, maxBytes } = this.#deps.config().outbox;
    if (stats.full) return { level: 'fault', reason: `outbox full (${stats.bytes} of ${maxBytes} bytes undelivered): new events are refused` };
    const age = this.#oldestAgeSeconds(stats);
    if (age !== undefined && age > maxAgeHours * 3600) {
      return { level: 'fault', reason: `oldest undelivered event is ${Math.round(age / 3600)} h old (limit ${maxAgeHours} h)` };
    }
    if (store.problems.length > 0) return { level: 'degraded', reason: store.problems[store.problems.length - 1] as string };
    return { level: 'ok' };
  }

  #oldestAgeSeconds(stats: OutboxStats): number | undefined {
    if (stats.oldestTs === undefined) return undefined;
    return Math.max(0, Math.round((this.#deps.clock.now() - Date.parse(stats.oldestTs)) / 1000));
  }

  commands(): CommandTable {
    return {
      'outbox.stats': {
        description: 'Depth, bytes and age of undelivered events',
        handler: async () => this.status(),
      },
    };
  }
}
