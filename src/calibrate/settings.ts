/**
 * What `hub calibrate` runs: simulator settings (a known latency model) and the one workload every
 * harness gets, made request-bounded so every harness sends the same requests.
 */
import { UserError } from "../errors.ts";
import type { Profile } from "../profile/schema.ts";

/** One latency model the simulator is set to. Jitter is the stddev of normal noise, in ms. */
export interface CalibrationSetting {
  name: string;
  ttftMs: number;
  itlMs: number;
  ttftJitterMs: number;
  itlJitterMs: number;
  /** Same seed for every harness: the n-th request gets the same jitter draws in every run. */
  seed: number;
}

/**
 * 100 ms rather than the simulator's default 50: every harness's TTFT includes its own client
 * overhead, a few ms that do not scale with TTFT (README, Calibration), and the 10% bar is meant
 * to catch converter errors, not that overhead on a loaded machine.
 */
export const DEFAULT_TTFT_MS = 100;
export const DEFAULT_ITL_MS = 10;
/** The jittered setting's noise, as fractions of the set TTFT and ITL. */
export const DEFAULT_TTFT_JITTER = 0.2;
export const DEFAULT_ITL_JITTER = 0.3;
export const DEFAULT_SEED = 42;
export const DEFAULT_PROFILE = "sanity_concurrent";
/** Requests per run: at concurrency 2 and 128 output tokens, about 14 s at the default latencies. */
export const DEFAULT_REQUESTS = 20;
/** The bar: normalised TTFT p50 and ITL p50 within 10%. */
export const DEFAULT_TOLERANCE = 0.1;

export interface SettingsOptions {
  ttftMs?: number;
  itlMs?: number;
  /** Stddev of the jittered setting's TTFT noise; default 20% of ttftMs. */
  ttftJitterMs?: number;
  /** Stddev of the jittered setting's token-gap noise; default 30% of itlMs. */
  itlJitterMs?: number;
  seed?: number;
  /** Leave out the jittered setting. */
  noJitter?: boolean;
}

/** "steady" (exact latencies) and, unless left out, "jitter" (same means, normal noise). */
export function calibrationSettings(o: SettingsOptions = {}): CalibrationSetting[] {
  const ttftMs = o.ttftMs ?? DEFAULT_TTFT_MS;
  const itlMs = o.itlMs ?? DEFAULT_ITL_MS;
  const seed = o.seed ?? DEFAULT_SEED;
  if (!(ttftMs > 0) || !(itlMs > 0)) throw new UserError(`calibration needs TTFT and ITL above 0 ms, got ${ttftMs} and ${itlMs}`);
  const settings: CalibrationSetting[] = [{ name: "steady", ttftMs, itlMs, ttftJitterMs: 0, itlJitterMs: 0, seed }];
  if (!o.noJitter) {
    const ttftJitterMs = o.ttftJitterMs ?? round(ttftMs * DEFAULT_TTFT_JITTER);
    const itlJitterMs = o.itlJitterMs ?? round(itlMs * DEFAULT_ITL_JITTER);
    if (ttftJitterMs === 0 && itlJitterMs === 0) throw new UserError("the jitter setting needs some jitter; pass --no-jitter to run the steady setting only");
    settings.push({ name: "jitter", ttftMs, itlMs, ttftJitterMs, itlJitterMs, seed });
  }
  return settings;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export function describeSetting(s: CalibrationSetting): string {
  const jitter = s.ttftJitterMs > 0 || s.itlJitterMs > 0;
  return jitter
    ? `simulator TTFT ${s.ttftMs} ± ${s.ttftJitterMs} ms, ITL ${s.itlMs} ± ${s.itlJitterMs} ms (normal jitter, seed ${s.seed})`
    : `simulator TTFT ${s.ttftMs} ms, ITL ${s.itlMs} ms, no jitter`;
}

/**
 * Overrides that bound every stage by `requests` instead of a duration, so every harness sends
 * the same requests (inference-perf can end a concurrent stage only by count; vLLM's bench only
 * by count). Returns [] when requests is 0 (keep the profile's own bounds).
 */
export function requestBoundOverrides(profile: Profile, requests: number): string[] {
  if (requests === 0) return [];
  return profile.load.stages.flatMap((s, i) => [
    ...(s.duration_s !== undefined ? [`load.stages.${i}.duration_s=null`] : []),
    `load.stages.${i}.requests=${requests}`,
  ]);
}

/**
 * The trace is one list of requests, so calibration compares one stage. Sweeps (which a harness
 * expands into several load points) and multi-stage profiles are refused with what to do instead.
 */
export function checkCalibratable(profile: Profile): void {
  if (profile.load.type === "sweep") {
    throw new UserError(`calibrate compares one load point with the simulator's trace; profile ${profile.name} is a sweep. Pick a single-stage profile, or -o load.type=concurrent`);
  }
  if (profile.load.stages.length !== 1) {
    throw new UserError(
      `calibrate compares one stage with the simulator's trace; profile ${profile.name} has ${profile.load.stages.length}. ` +
        `Keep one with, for example, -o 'load.stages=[{"concurrency":2,"requests":20}]'`,
    );
  }
}

/** Nominal per-request latencies the simulator is set to, for n output tokens. */
export function nominal(s: CalibrationSetting, n: number): { ttft: number; itl: number; e2e: number; tpot: number | null; ntpot: number | null } {
  const e2e = s.ttftMs + Math.max(0, n - 1) * s.itlMs;
  return { ttft: s.ttftMs, itl: s.itlMs, e2e, tpot: n > 1 ? s.itlMs : null, ntpot: n > 0 ? e2e / n : null };
}
