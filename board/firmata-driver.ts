import type { EventEmitter } from 'node:events';
import { ErrorCode, PraxisboxError, describeError } from '../agent/core/errors.js';
import type { BoardDriver, ButtonEdge, LedButtonWiring, Light } from './board.js';
import { openTtyTransport } from './tty-transport.js';

/** A Firmata status panel (e.g. an Arduino Uno running StandardFirmata) on a USB serial port. */
export interface FirmataOptions extends LedButtonWiring {
  /** Serial device, e.g. /dev/ttyACM0 (better: the stable /dev/serial/by-id/… link). */
  port: string;
}

/** The part of a Firmata IO object (firmata-io, mock-firmata) the driver hands to johnny-five. */
export type FirmataIo = EventEmitter & { isReady?: boolean };

export interface FirmataDriverDeps {
  options: FirmataOptions;
  /** The IO object; by default firmata-io over the serial port, without any native serial binding. */
  io?: () => Promise<FirmataIo>;
  /** How long to wait for the board's Firmata handshake. */
  readyTimeoutMs?: number;
}

// johnny-five ships no types; these are the few members used here.
interface J5Pin {
  high(): void;
  low(): void;
}
interface J5Button extends EventEmitter {
  readonly isDown: boolean;
}
interface J5Board extends EventEmitter {
  io: FirmataIo & { reset?: () => void };
}
interface J5 {
  Board: new (opts: Record<string, unknown>) => J5Board;
  Pin: new (opts: Record<string, unknown>) => J5Pin;
  Button: new (opts: Record<string, unknown>) => J5Button;
}

/**
 * johnny-five is loaded with a dynamic import on open, so an agent without a Firmata panel never
 * loads it (nor its dependencies). LEDs are driven as plain digital pins (`Pin.high/low`), not
 * johnny-five's `Led`, which switches PWM-capable pins to analogWrite.
 */
export class FirmataDriver implements BoardDriver {
  readonly kind = 'firmata' as const;
  readonly hasBlue: boolean;
  readonly #deps: FirmataDriverDeps;
  #pins: { red: J5Pin; green: J5Pin; blue?: J5Pin } | undefined;
  #io: FirmataIo | undefined;
  #handlers: ((edge: ButtonEdge) => void)[] = [];
  #problem: string | undefined;
  #closeIo: (() => Promise<void>) | undefined;
  #closed = false;

  constructor(deps: FirmataDriverDeps) {
    this.#deps = deps;
    this.hasBlue = deps.options.blue !== undefined;
  }

  async open(): Promise<void> {
    const o = this.#deps.options;
    this.#closed = false;
    let five: J5;
    try {
      const name = 'johnny-five';
      five = ((await import(name)) as { default: J5 }).default;
    } catch (err) {
      throw new PraxisboxError(ErrorCode.DeviceUnavailable, `johnny-five could not be loaded (${describeError(err)})`, { cause: err });
    }
    const io = this.#deps.io ? await this.#deps.io() : await this.#openSerial(o.port);
    this.#io = io;
    const timeoutMs = this.#deps.readyTimeoutMs ?? 10_000;
    const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: timeoutMs });
    let ready = false;
    // Stays attached for the board's lifetime: johnny-five emits late errors (its own connect timer).
    board.on('error', (err: unknown) => {
      if (ready && !this.#closed) this.#problem = `Firmata panel error: ${describeError(err)}`;
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string, cause?: unknown): void => {
        clearTimeout(timer);
        reject(new PraxisboxError(ErrorCode.DeviceUnavailable, `Firmata panel on ${o.port} did not answer (${why})`, { cause }));
      };
      const timer = setTimeout(() => fail(`no Firmata handshake within ${timeoutMs} ms`), timeoutMs);
      board.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      board.once('error', (err: unknown) => fail(describeError(err), err));
    }).catch(async (err: unknown) => {
      this.#closed = true;
      await this.#closeIo?.();
      this.#closeIo = undefined;
      throw err;
    });
    ready = true;
    for (const event of ['close', 'disconnect']) {
      io.on(event, () => {
        if (!this.#closed) this.#problem = 'Firmata panel disconnected';
      });
    }
    const pin = (n: number): J5Pin => new five.Pin({ pin: n, board, type: 'digital', mode: 1 });
    this.#pins = { red: pin(o.red), green: pin(o.green), ...(o.blue !== undefined ? { blue: pin(o.blue) } : {}) };
    const button = new five.Button({ pin: o.button, board, isPullup: o.buttonActiveLow, invert: o.buttonActiveLow, holdtime: 3_600_000 });
    button.on('down', () => this.#emit('down'));
    button.on('up', () => this.#emit('up'));
  }

  async setLight(light: Light): Promise<void> {
    if (this.#closed || !this.#pins) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'Firmata panel is closed');
    const on = (p: J5Pin | undefined, value: boolean): void => {
      if (!p) return;
      if (value !== this.#deps.options.activeLow) p.high();
      else p.low();
    };
    on(this.#pins.red, light.red);
    on(this.#pins.green, light.green);
    on(this.#pins.blue, light.blue);
  }

  onButton(handler: (edge: ButtonEdge) => void): void {
    this.#handlers.push(handler);
  }

  problem(): string | undefined {
    return this.#problem;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#pins) await this.setLight({ red: false, green: false, blue: false }).catch(() => undefined);
    this.#closed = true;
    this.#handlers = [];
    this.#pins = undefined;
    this.#io = undefined;
    await this.#closeIo?.();
    this.#closeIo = undefined;
  }

  #emit(edge: ButtonEdge): void {
    for (const h of this.#handlers) h(edge);
  }

  async #openSerial(port: string): Promise<FirmataIo> {
    let Firmata: new (t: unknown, opts: Record<string, unknown>) => FirmataIo;
    try {
      const name = 'firmata-io';
      Firmata = ((await import(name)) as { default: { Firmata: typeof Firmata } }).default.Firmata;
    } catch (err) {
      throw new PraxisboxError(ErrorCode.DeviceUnavailable, `firmata-io could not be loaded (${describeError(err)})`, { cause: err });
    }
    const transport = await openTtyTransport(port);
    this.#closeIo = () => transport.close();
    // Constructed in the same turn: the transport's `open` (johnny-five waits for it) and first
    // bytes come later, from the event loop.
    return new Firmata(transport, { reportVersionTimeout: 2_000 });
  }

  /** The IO object in use (tests inspect the mock's pin writes through it). */
  io(): FirmataIo | undefined {
    return this.#io;
  }
}
