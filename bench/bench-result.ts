/** What every benchmark module returns: named figures (medians, ratios) and the target they are held to. */
export interface BenchResult {
  name: string;
  /** Figures as printed: numbers keep their unit in the key (e.g. `p99Ms`, `eventsPerSec`). */
  figures: Record<string, number | string>;
  /** Targets from the issue, each with whether this run met it. */
  targets: Array<{ what: string; met: boolean }>;
  notes?: string[];
}

/** A benchmark module: `bench/<name>.ts` exporting `bench`. `npm run bench [-- NAME…]` runs them. */
export type Bench = (options: { quick: boolean }) => Promise<BenchResult>;

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
