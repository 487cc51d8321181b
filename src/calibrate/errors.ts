/**
 * A harness's normalised numbers against the simulator's ground truth: the error of each
 * statistic, and the pass/fail checks `hub calibrate` exits on.
 */
import type { LatencyKey } from "../metrics/schema.ts";
import type { Summary } from "../metrics/stats.ts";
import type { Alignment } from "./align.ts";
import type { CalibrationSetting } from "./settings.ts";
import { LATENCY_KEYS, type Observation } from "./truth.ts";

export const STATS = ["mean", "p50", "p90", "p99"] as const satisfies readonly (keyof Summary)[];
export type Stat = (typeof STATS)[number];

export interface ErrorEntry {
  /** "ttft_ms.p50", "output_tokens_per_s", "requests.successful", ... */
  metric: string;
  value: number | null;
  truth: number | null;
  /** value - truth, in the metric's unit. */
  abs: number | null;
  /** (value - truth) / truth; null when either is missing or truth is 0. */
  rel: number | null;
}

export function errorOf(metric: string, value: number | null | undefined, truth: number | null | undefined): ErrorEntry {
  const v = value ?? null;
  const t = truth ?? null;
  const ok = v !== null && t !== null && Number.isFinite(v) && Number.isFinite(t);
  return { metric, value: v, truth: t, abs: ok ? v - t : null, rel: ok && t !== 0 ? (v - t) / t : null };
}

/** Every compared statistic: latencies (mean, p50, p90, p99), output tokens/s, counts. */
export function compareObservations(measured: Observation, truth: Observation): ErrorEntry[] {
  const out: ErrorEntry[] = [];
  for (const key of LATENCY_KEYS) {
    for (const stat of STATS) out.push(errorOf(`${key}.${stat}`, measured.latency[key][stat], truth.latency[key][stat]));
  }
  out.push(errorOf("output_tokens_per_s", measured.output_tokens_per_s, truth.output_tokens_per_s));
  out.push(errorOf("requests.successful", measured.requests.successful, truth.requests.successful));
  out.push(errorOf("requests.failed", measured.requests.failed, truth.requests.failed));
  out.push(errorOf("output_tokens_per_request.mean", measured.output_tokens_per_request.mean, truth.output_tokens_per_request.mean));
  out.push(errorOf("output_tokens_per_request.min", measured.output_tokens_per_request.min, truth.output_tokens_per_request.min));
  out.push(errorOf("output_tokens_per_request.max", measured.output_tokens_per_request.max, truth.output_tokens_per_request.max));
  return out;
}

export interface Check {
  /** "ttft_ms.p50" or "itl_ms.p50". */
  metric: string;
  /**
   * trace: the harness's p50 against the trace's p50; set: against the latency the simulator was
   * set to; paired: the median over requests of harness TTFT − server TTFT for the same request,
   * against 0 (value is that median, rel is it over the trace's TTFT p50).
   */
  against: "trace" | "set" | "paired";
  value: number | null;
  expected: number | null;
  rel: number | null;
  tolerance: number;
  ok: boolean;
}

const CHECKED: readonly { key: LatencyKey; set: (s: CalibrationSetting) => number }[] = [
  { key: "ttft_ms", set: (s) => s.ttftMs },
  { key: "itl_ms", set: (s) => s.itlMs },
];

/**
 * The bar: normalised TTFT p50 and ITL p50 within `tolerance` of the trace's, and, on a
 * setting without jitter, of the set TTFT and ITL too. With jitter the set value is only the
 * median of the noise, so a finite sample's median legitimately differs from it; and TTFT is
 * checked per request (paired with the server's record of the same request) when the requests
 * could be matched: with 20 jittered TTFTs, one or two slow requests crossing the median move the
 * p50 by several ms although every other request is within a millisecond.
 */
export function checksFor(measured: Observation, truth: Observation, setting: CalibrationSetting, tolerance: number, split?: Alignment): Check[] {
  const checks: Check[] = [];
  const jitter = setting.ttftJitterMs > 0 || setting.itlJitterMs > 0;
  for (const { key, set } of CHECKED) {
    const value = measured.latency[key].p50;
    const truthP50 = truth.latency[key].p50;
    if (jitter && key === "ttft_ms" && split && split.ttft_diff_ms.p50 !== null && truthP50) {
      const d = split.ttft_diff_ms.p50;
      checks.push({ metric: `${key}.p50`, against: "paired", value: d, expected: 0, rel: d / truthP50, tolerance, ok: Math.abs(d / truthP50) <= tolerance });
      continue;
    }
    const targets: [Check["against"], number | null][] = [["trace", truthP50]];
    if (!jitter) targets.push(["set", set(setting)]);
    for (const [against, expected] of targets) {
      const e = errorOf(`${key}.p50`, value, expected);
      checks.push({ metric: `${key}.p50`, against, value, expected, rel: e.rel, tolerance, ok: e.rel !== null && Math.abs(e.rel) <= tolerance });
    }
  }
  return checks;
}
