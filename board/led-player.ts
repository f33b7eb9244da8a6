import type { Clock, Timer } from '../agent/core/clock.js';
import type { Light } from './board.js';
import { patternSteps, type LedPattern, type LedStep } from './led-patterns.js';

export interface LedPlayerDeps {
  clock: Clock;
  hasBlue: boolean;
  write: (light: Light) => Promise<void>;
  onError?: (err: unknown) => void;
}

const same = (a: Light | undefined, b: Light): boolean => a !== undefined && a.red === b.red && a.green === b.green && a.blue === b.blue;

/**
 * Plays a pattern's steps on the driver with the injected clock. Writes never overlap: a slow driver
 * (the GPIO tools start a process per change) gets only the newest light when it is ready again, so a
 * blink can skip a step under load but never queues up behind it. Unchanged lights are not rewritten.
 */
export class LedPlayer {
  readonly #deps: LedPlayerDeps;
  #pattern: LedPattern = 'off';
  #steps: LedStep[] = [];
  #index = 0;
  #timer: Timer | undefined;
  #wanted: Light | undefined;
  #written: Light | undefined;
  #flushing: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: LedPlayerDeps) {
    this.#deps = deps;
  }

  pattern(): LedPattern {
    return this.#pattern;
  }

  play(pattern: LedPattern): void {
    if (this.#stopped || (pattern === this.#pattern && this.#steps.length > 0)) return;
    this.#pattern = pattern;
    this.#steps = patternSteps(pattern, this.#deps.hasBlue);
    this.#index = 0;
    this.#cancel();
    this.#show();
  }

  /** Stops stepping and waits for a write in progress; the driver's close turns the LED off. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel();
    this.#wanted = undefined;
    await this.#flushing;
  }

  #cancel(): void {
    if (this.#timer !== undefined) this.#deps.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #show(): void {
    const step = this.#steps[this.#index];
    if (!step) return;
    this.#request(step.light);
    if (Number.isFinite(step.ms) && this.#steps.length > 1) {
      this.#timer = this.#deps.clock.setTimeout(() => {
        this.#timer = undefined;
        this.#index = (this.#index + 1) % this.#steps.length;
        this.#show();
      }, step.ms);
    }
  }

  #request(light: Light): void {
    this.#wanted = light;
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = undefined;
    });
  }

  async #flush(): Promise<void> {
    while (this.#wanted !== undefined) {
      const light = this.#wanted;
      this.#wanted = undefined;
      if (same(this.#written, light)) continue;
      try {
        await this.#deps.write(light);
        this.#written = light;
      } catch (err) {
        this.#written = undefined;
        this.#deps.onError?.(err);
      }
    }
  }
}
