/**
 * When is a file a device writes "complete"? GDT has no end marker and no acknowledgement: a
 * complete file appearing *is* the signal, and readers that react to "created" read half files.
 * So a file is complete once its size, mtime and inode have not changed for a while, measured on
 * the box's own clock (mtime comes from the writer's clock, which on a network share is another
 * machine's). Pure bookkeeping: the I/O shell feeds it stats and asks it when to look again.
 */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ino: number;
}

export interface Observation {
  stat: FileStat;
  /** Box time at which the file was first seen with exactly this stat. */
  since: number;
}

export class StabilityTracker {
  readonly #observations = new Map<string, Observation>();

  /** Records what a stat returned (undefined: the file is gone) and returns the current observation. */
  observe(key: string, stat: FileStat | undefined, now: number): Observation | undefined {
    if (stat === undefined) {
      this.#observations.delete(key);
      return undefined;
    }
    const previous = this.#observations.get(key);
    if (previous !== undefined && sameStat(previous.stat, stat)) return previous;
    const next = { stat: { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino }, since: now };
    this.#observations.set(key, next);
    return next;
  }

  get(key: string): Observation | undefined {
    return this.#observations.get(key);
  }

  /** How long the file has been unchanged (0 when never seen). */
  unchangedFor(key: string, now: number): number {
    const o = this.#observations.get(key);
    return o === undefined ? 0 : Math.max(0, now - o.since);
  }

  forget(key: string): void {
    this.#observations.delete(key);
  }

  /** Drops every key not in `present` (files that vanished between scans). */
  retain(present: ReadonlySet<string>): void {
    for (const key of this.#observations.keys()) if (!present.has(key)) this.#observations.delete(key);
  }

  get size(): number {
    return this.#observations.size;
  }
}

export function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
}

/** Milliseconds until the file may be considered complete (0 = now). */
export function waitUntilStable(observation: Observation, now: number, stableMs: number): number {
  return Math.max(0, observation.since + stableMs - now);
}
