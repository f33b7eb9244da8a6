import { Worker } from 'node:worker_threads';
import type { SimFault } from './iso-card.js';
import type { SimPerson } from './sim-person.js';
import type { VirtualCardType } from './virtual-cards.js';

/** Which card to insert: plain data, cloned into the worker. */
export interface VirtualCardSpec {
  type: VirtualCardType;
  person?: SimPerson;
  extendedLength?: boolean;
  faults?: SimFault[];
}

export interface VpcdSlotOptions {
  port: number;
  host?: string;
  /** Reconnect after pcscd restarts (the card stays inserted). */
  reconnect?: boolean;
}

/**
 * One vpcd slot with virtual cards run in a worker thread. Tests and the benchmark read cards through
 * PC/SC in the same process as the card: with the card on the main thread, a synchronous PC/SC call
 * there (SCardDisconnect waits for the reader, and vpcd's two slots share one driver lock) would wait
 * for a card that can no longer answer — a deadlock measured in the benchmark. The worker is reused
 * for every card inserted into the slot (starting one costs far more than a card cycle).
 * `praxisbox sim card` runs in its own process and uses VpcdCard directly.
 */
export class VpcdSlot {
  readonly #worker: Worker;
  #next = 0;
  readonly #pending = new Map<number, (msg: Record<string, unknown>) => void>();
  #closed = false;
  /** The current card pulled itself (fault `remove`). */
  pulled = false;
  /** Connections the current card made to vpcd (more than one after a pcscd restart). */
  connections = 0;

  constructor(options: VpcdSlotOptions) {
    this.#worker = new Worker(new URL('./vpcd-slot-worker.js', import.meta.url), { workerData: options });
    this.#worker.on('message', (msg: Record<string, unknown>) => {
      if (msg['ev'] === 'state') {
        this.pulled = msg['pulled'] === true;
        this.connections = Number(msg['connections']);
        return;
      }
      const done = this.#pending.get(Number(msg['id']));
      this.#pending.delete(Number(msg['id']));
      done?.(msg);
    });
  }

  #call(cmd: 'insert' | 'remove' | 'log' | 'ping', card?: VirtualCardSpec): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new Error('virtual card slot closed'));
    const id = ++this.#next;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.#worker.postMessage({ cmd, id, card });
    });
  }

  /** Resolves once the worker has loaded (so timings do not include its start). */
  async ready(): Promise<void> {
    await this.#call('ping');
  }

  /** Inserts a new card (removing the one in the slot first); resolves once vpcd accepted it. */
  async insert(card: VirtualCardSpec): Promise<void> {
    this.pulled = false;
    this.connections = 0;
    await this.#call('insert', card);
  }

  async remove(): Promise<void> {
    if (this.#closed) return;
    await this.#call('remove');
  }

  /** The command APDUs the current card received so far. */
  async log(): Promise<Uint8Array[]> {
    const msg = await this.#call('log');
    const apdus = msg['log'];
    return Array.isArray(apdus) ? apdus.map((a: number[]) => Uint8Array.from(a)) : [];
  }

  /** Removes the card and ends the worker; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.remove();
    this.#closed = true;
    await this.#worker.terminate();
  }
}
