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

  /** Lines written since the agent started; the sequence number of the newest line. */
  #written = 0;

  write(line: string): void {
    this.#written += 1;
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

  /** Sequence number of the newest line (0 before the first): a follower's starting point. */
  get latest(): number {
    return this.#written;
  }

  /**
   * Lines after sequence number `seq` that are still held, oldest first, parsed, each with its
   * `seq` (for a live tail that polls; lines that fell out of the ring in between are skipped).
   */
  since(seq: number): { seq: number; line: Record<string, unknown> }[] {
    const first = this.#written - this.#lines.length + 1;
    const start = Math.max(0, seq + 1 - first);
    return this.#lines.slice(start).map((l, i) => ({ seq: first + start + i, line: parse(l) }));
  }

  /** The newest `count` lines, oldest first, parsed. */
  tail(count: number): Record<string, unknown>[] {
    return this.#lines.slice(-count).map(parse);
  }
}

function parse(l: string): Record<string, unknown> {
  try {
    return JSON.parse(l) as Record<string, unknown>;
  } catch {
    return { msg: l };
  }
}
