import { describe, expect, it } from "vitest";
import { deriveSeed, jittered, mulberry32 } from "../../src/sim/rng.ts";

describe("seeded randomness", () => {
  it("is reproducible per (seed, request index) and differs across them", () => {
    const draw = (seed: number, index: number) => {
      const rng = mulberry32(deriveSeed(seed, index));
      return Array.from({ length: 5 }, () => jittered(rng, 10, 2));
    };
    expect(draw(1, 0)).toEqual(draw(1, 0));
    expect(draw(1, 0)).not.toEqual(draw(1, 1));
    expect(draw(1, 0)).not.toEqual(draw(2, 0));
  });

  it("jitter is N(mean, sd) clipped at 0, and no draw at sd 0", () => {
    const rng = mulberry32(5);
    const xs = Array.from({ length: 20_000 }, () => jittered(rng, 10, 3));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(2.9);
    expect(sd).toBeLessThan(3.1);
    expect(Math.min(...Array.from({ length: 5000 }, () => jittered(rng, 1, 5)))).toBe(0);
    expect(jittered(() => Number.NaN, 7, 0)).toBe(7);
  });
});
