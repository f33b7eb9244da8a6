import net from 'node:net';
import type { IsoCard } from './iso-card.js';

/**
 * A virtual card on the vpcd protocol (vsmartcard's virtual reader for pcscd): the card is a TCP
 * *client* of vpcd; connecting is insertion, closing is removal. Every message either way is a
 * two-byte big-endian length and a payload; from vpcd a one-byte payload is a control message
 * (0 power off, 1 power on, 2 reset, 4 get ATR), anything longer a command APDU.
 */
export const VPCD_BASE_PORT = 35963;
export const vpcdPort = (slot: number): number => VPCD_BASE_PORT + slot;

const CTRL_OFF = 0x00;
const CTRL_ON = 0x01;
const CTRL_RESET = 0x02;
const CTRL_ATR = 0x04;

export interface VpcdCardOptions {
  card: IsoCard;
  port: number;
  host?: string;
  /** Connect again when vpcd drops the connection (pcscd restarted): the card stays "inserted". */
  reconnect?: boolean;
  reconnectDelayMs?: number;
  /** Called after a connection opened or the card pulled itself (for the worker wrapper). */
  onState?: () => void;
}

export class VpcdCard {
  readonly #opts: VpcdCardOptions;
  #socket: net.Socket | undefined;
  #wanted = false;
  #timer: NodeJS.Timeout | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #connectedOnce: (() => void) | undefined;
  /** Set when a fault pulled the card; it stays out until inserted again. */
  pulled = false;
  connections = 0;

  constructor(opts: VpcdCardOptions) {
    this.#opts = opts;
  }

  get card(): IsoCard {
    return this.#opts.card;
  }

  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.connecting && !this.#socket.destroyed;
  }

  /** Inserts the card: resolves once vpcd accepted the connection (pcscd notices on its next poll). */
  insert(): Promise<void> {
    this.#wanted = true;
    this.pulled = false;
    return new Promise((resolve) => {
      this.#connectedOnce = resolve;
      this.#connect();
    });
  }

  /** Removes the card (closes the connection) and stops reconnecting. */
  async remove(): Promise<void> {
    this.#wanted = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.#socket;
    this.#socket = undefined;
    if (!s || s.destroyed) return;
    await new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.destroy();
    });
  }

  #connect(): void {
    if (!this.#wanted || this.#socket) return;
    const s = net.connect({ port: this.#opts.port, host: this.#opts.host ?? '127.0.0.1' });
    this.#socket = s;
    this.#buffer = Buffer.alloc(0);
    s.setNoDelay(true);
    s.on('connect', () => {
      this.connections += 1;
      this.#opts.onState?.();
      const done = this.#connectedOnce;
      this.#connectedOnce = undefined;
      done?.();
    });
    s.on('data', (d: Buffer) => this.#onData(s, d));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (this.#socket === s) this.#socket = undefined;
      if (this.#wanted && !this.pulled && (this.#opts.reconnect ?? true)) {
        this.#timer = setTimeout(() => this.#connect(), this.#opts.reconnectDelayMs ?? 100);
      }
    });
  }

  #onData(s: net.Socket, d: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? d : Buffer.concat([this.#buffer, d]);
    while (this.#buffer.length >= 2) {
      const len = this.#buffer.readUInt16BE(0);
      if (this.#buffer.length < 2 + len) return;
      const msg = this.#buffer.subarray(2, 2 + len);
      this.#buffer = this.#buffer.subarray(2 + len);
      const reply = this.#handle(msg);
      if (reply === 'pull') {
        this.pulled = true;
        s.destroy();
        this.#opts.onState?.();
        return;
      }
      if (reply) {
        const out = Buffer.allocUnsafe(2 + reply.length);
        out.writeUInt16BE(reply.length, 0);
        out.set(reply, 2);
        s.write(out);
      }
    }
  }

  #handle(msg: Buffer): Uint8Array | 'pull' | undefined {
    const card = this.#opts.card;
    if (msg.length === 1) {
      switch (msg[0]) {
        case CTRL_ON:
        case CTRL_RESET:
          card.reset();
          return undefined;
        case CTRL_ATR:
          return card.atr;
        case CTRL_OFF:
        default:
          return undefined;
      }
    }
    const r = card.process(msg);
    return r.kind === 'remove' ? 'pull' : r.bytes;
  }
}
