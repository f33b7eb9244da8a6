import type { DestinationStream } from 'pino';

/**
 * Keeps the last N log lines in memory for `logs.tail` and diagnostics bundles, and forwards every
 * line to the real destination. Lines are already redacted by the logger's formatters.
 */
export class LogRing implements DestinationStream {
  readonly #lines: string[] = [];
  #capacity: number;
  readonly #next: DestinationStream | undefined;

  constructor(capacity: number, next?: DestinationStream) {
    this.#capacity = capacity;
    this.#next = next;
  }

  write(line: string): void {
    this.#lines.push(line.endsWith('\n') ? line.slice(0, -1) : line);
    if (this.#lines.length > this.#capacity) this.#lines.splice(0, this.#lines.length - this.#capacity);
    this.#next?.write(line);
  }

  resize(capacity: number): void {
    this.#capacity = capacity;
    if (this.#lines.length > capacity) this.#lines.splice(0, this.#lines.length - capacity);
  }

  get size(): number {
    return this.#lines.length;
  }

  /** The newest `count` lines, oldest first, parsed. */
  tail(count: number): Record<string, unknown>[] {
    return this.#lines.slice(-count).map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        return { msg: l };
      }
    });
  }
}
