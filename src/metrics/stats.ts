/**
 * The one statistics implementation every converter uses.
 *
 * Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7, numpy's
 * default): for sorted x[0..n-1] and fraction p, h = (n-1)p, and the value is
 * x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). Standard deviation is the population
 * one (divide by n), as numpy's default. See docs/metrics.md.
 */

export const PERCENTILES = { p50: 0.5, p90: 0.9, p95: 0.95, p99: 0.99, p999: 0.999 } as const;

export interface Summary {
  count: number;
  mean: number | null;
  stddev: number | null;
  min: number | null;
  max: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
}

/** Percentile of an ascending-sorted array, p in [0, 1]. */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("percentile of an empty sample");
  if (p <= 0) return sorted[0]!;
  if (p >= 1) return sorted[n - 1]!;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export function percentile(values: readonly number[], p: number): number {
  return percentileSorted(Float64Array.from(values).sort(), p);
}

export function emptySummary(): Summary {
  return { count: 0, mean: null, stddev: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null, p999: null };
}

export function summarize(values: readonly number[] | Float64Array): Summary {
  const n = values.length;
  if (n === 0) return emptySummary();
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const mean = sum / n;
  let sq = 0;
  for (const v of sorted) sq += (v - mean) ** 2;
  return {
    count: n,
    mean,
    stddev: Math.sqrt(sq / n),
    min: sorted[0]!,
    max: sorted[n - 1]!,
    p50: percentileSorted(sorted, PERCENTILES.p50),
    p90: percentileSorted(sorted, PERCENTILES.p90),
    p95: percentileSorted(sorted, PERCENTILES.p95),
    p99: percentileSorted(sorted, PERCENTILES.p99),
    p999: percentileSorted(sorted, PERCENTILES.p999),
  };
}
