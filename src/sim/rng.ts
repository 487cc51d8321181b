/**
 * Small seeded random numbers: mulberry32 (32-bit state, plenty for jitter and failure draws) and a
 * Box-Muller normal. Each request gets its own stream derived from (seed, request index), so one
 * request's jitter does not depend on how other requests interleave.
 */

export type Rng = () => number;

/** Uniform [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Mix two 32-bit values into a seed (a murmur3-style finaliser), for per-request streams. */
export function deriveSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Standard normal draw. */
export function normal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1], keeps log finite
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** mean + N(0, sd), clipped at 0; no draw when sd is 0 so the stream stays unchanged. */
export function jittered(rng: Rng, mean: number, sd: number): number {
  if (sd <= 0) return mean;
  return Math.max(0, mean + sd * normal(rng));
}
