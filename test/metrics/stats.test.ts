import { describe, expect, it } from "vitest";
import { percentile, summarize } from "../../src/metrics/stats.ts";

describe("percentile (linear interpolation, numpy's default)", () => {
  it("matches numpy.percentile on a small sample", () => {
    // numpy.percentile([15, 20, 35, 40, 50], [50, 90, 99, 40]) = [35, 46, 49.6, 29]
    const x = [40, 15, 50, 35, 20];
    expect(percentile(x, 0.5)).toBe(35);
    expect(percentile(x, 0.9)).toBeCloseTo(46, 10);
    expect(percentile(x, 0.99)).toBeCloseTo(49.6, 10);
    expect(percentile(x, 0.4)).toBeCloseTo(29, 10);
  });

  it("returns the extremes at 0 and 1 and the only value of a singleton", () => {
    expect(percentile([3, 1, 2], 0)).toBe(1);
    expect(percentile([3, 1, 2], 1)).toBe(3);
    expect(percentile([7], 0.99)).toBe(7);
  });

  it("refuses an empty sample", () => {
    expect(() => percentile([], 0.5)).toThrow(RangeError);
  });
});

describe("summarize", () => {
  it("computes count, mean, population stddev, min, max and percentiles", () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s).toMatchObject({ count: 8, mean: 5, stddev: 2, min: 2, max: 9, p50: 4.5 });
    expect(s.p90).toBeCloseTo(7.6, 10);
  });

  it("gives nulls, not zeros, for an empty sample", () => {
    expect(summarize([])).toEqual({ count: 0, mean: null, stddev: null, min: null, max: null, p50: null, p90: null, p95: null, p99: null, p999: null });
  });
});
