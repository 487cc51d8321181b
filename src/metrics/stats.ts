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
  return summaryOf(n, mean, Math.sqrt(sq / n), sorted[0]!, sorted[n - 1]!, (p) => percentileSorted(sorted, p));
}

function summaryOf(count: number, mean: number, stddev: number, min: number, max: number, quantile: (p: number) => number): Summary {
  return {
    count,
    mean,
    stddev,
    min,
    max,
    p50: quantile(PERCENTILES.p50),
    p90: quantile(PERCENTILES.p90),
    p95: quantile(PERCENTILES.p95),
    p99: quantile(PERCENTILES.p99),
    p999: quantile(PERCENTILES.p999),
  };
}

/**
 * The summary of a sample given as distinct values with integer repeat counts: the same numbers
 * `summarize` gives for the expanded sample (each value repeated `weights[i]` times), in memory
 * proportional to the distinct values. Used where one request stands for n-1 equal gaps.
 */
export function summarizeWeighted(values: ArrayLike<number>, weights: ArrayLike<number>): Summary {
  const m = values.length;
  const order = Uint32Array.from({ length: m }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const sorted = new Float64Array(m);
  const cumulative = new Float64Array(m); // expanded rank just past each distinct value
  let n = 0;
  let sum = 0;
  for (let k = 0; k < m; k++) {
    const i = order[k]!;
    sorted[k] = values[i]!;
    n += weights[i]!;
    cumulative[k] = n;
    sum += values[i]! * weights[i]!;
  }
  if (n === 0) return emptySummary();
  const mean = sum / n;
  let sq = 0;
  for (let k = 0; k < m; k++) sq += weights[order[k]!]! * (sorted[k]! - mean) ** 2;
  // The value at expanded rank r (0-based): the first distinct value whose cumulative count exceeds r.
  const at = (r: number): number => {
    let lo = 0;
    let hi = m - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return sorted[lo]!;
  };
  const pct = (p: number): number => {
    const h = (n - 1) * p;
    const lo = Math.floor(h);
    const a = at(lo);
    return a + (h - lo) * (at(Math.min(lo + 1, n - 1)) - a);
  };
  return summaryOf(n, mean, Math.sqrt(sq / n), sorted[0]!, sorted[m - 1]!, pct);
}

/** Smallest and largest of any number of values: a loop, because spreading a large array into Math.min overflows the stack. */
export function minOf(values: Iterable<number>): number {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return m;
}

export function maxOf(values: Iterable<number>): number {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return m;
}
