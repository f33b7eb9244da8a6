import { ErrorCode, PraxisboxError } from '../agent/core/errors.js';
import type { BoardDriver, ButtonEdge, Light } from './board.js';

/**
 * No LED, no button (development machines, boxes without a panel). Remembers the last light so
 * `praxisbox status` and the contract suite can see what would be shown.
 */
export class NoopDriver implements BoardDriver {
  readonly kind = 'none' as const;
  readonly hasBlue = true;
  #light: Light | undefined;
  #handlers: ((edge: ButtonEdge) => void)[] = [];
  #closed = false;

  async open(): Promise<void> {
    this.#closed = false;
  }

  async setLight(light: Light): Promise<void> {
    if (this.#closed) throw new PraxisboxError(ErrorCode.DeviceUnavailable, 'board is closed');
    this.#light = { ...light };
  }

  onButton(handler: (edge: ButtonEdge) => void): void {
    this.#handlers.push(handler);
  }

  problem(): string | undefined {
    return undefined;
  }

  /** The light last set (tests, status). */
  light(): Light | undefined {
    return this.#light;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#light = undefined;
    this.#handlers = [];
  }
}
