/**
 * The same measurements three ways: from the simulator's trace (ground truth), from a harness's
 * normalised metrics.json stage, and from the latency model the simulator was set to. All use the
 * definitions in docs/metrics.md and the one statistics implementation (src/metrics/stats.ts).
 */
import type { LatencyKey, Provenance, Stage } from "../metrics/schema.ts";
import { emptySummary, summarize, type Summary, maxOf, minOf } from "../metrics/stats.ts";
import type { TraceRecord } from "../sim/index.ts";
import { nominal, type CalibrationSetting } from "./settings.ts";

export const LATENCY_KEYS: readonly LatencyKey[] = ["ttft_ms", "tpot_ms", "itl_ms", "ntpot_ms", "e2e_ms"];

export type MeasuredSummary = Summary & { provenance?: Provenance };

export interface Observation {
  latency: Record<LatencyKey, MeasuredSummary>;
  output_tokens_per_s: number | null;
  requests: { successful: number; failed: number };
  output_tokens_per_request: Summary;
  /** The window output tokens/s is divided by. */
  duration_s: number | null;
}

/**
 * Ground truth from the trace, as the server saw it: t0 = request headers received, t1 = first
 * token handed to the socket, t_end = response finished. Throughput over first receipt to last end.
 */
export function truthFromTrace(trace: readonly TraceRecord[]): Observation {
  const ok = trace.filter((t) => t.status === "ok" && t.first_token_s !== null);
  const failed = trace.filter((t) => t.status === "failed").length;
  const ttft: number[] = [];
  const e2e: number[] = [];
  const tpot: number[] = [];
  const ntpot: number[] = [];
  const itl: number[] = [];
  const out: number[] = [];
  for (const t of ok) {
    const first = (t.first_token_s! - t.received_s) * 1000;
    const total = (t.end_s - t.received_s) * 1000;
    const n = t.completion_tokens;
    ttft.push(first);
    e2e.push(total);
    out.push(n);
    if (n > 1) tpot.push((total - first) / (n - 1));
    if (n > 0) ntpot.push(total / n);
    for (let i = 1; i < t.token_times_s.length; i++) itl.push((t.token_times_s[i]! - t.token_times_s[i - 1]!) * 1000);
  }
  const counted = trace.filter((t) => t.status !== "aborted");
  let duration: number | null = null;
  if (counted.length > 0) {
    const start = minOf(counted.map((t) => t.received_s));
    const end = maxOf(counted.map((t) => t.end_s));
    duration = end > start ? end - start : null;
  }
  const outSum = out.reduce((a, b) => a + b, 0);
  return {
    latency: { ttft_ms: summarize(ttft), tpot_ms: summarize(tpot), itl_ms: summarize(itl), ntpot_ms: summarize(ntpot), e2e_ms: summarize(e2e) },
    output_tokens_per_s: duration ? outSum / duration : null,
    requests: { successful: ok.length, failed },
    output_tokens_per_request: summarize(out),
    duration_s: duration,
  };
}

/** A harness's normalised numbers: one stage of its metrics.json. */
export function observationFromStage(stage: Stage): Observation {
  const strip = (d: Stage["latency"][LatencyKey]): MeasuredSummary => {
    const { provenance, ...summary } = d;
    return { ...summary, provenance };
  };
  const { provenance: _p, ...outTokens } = stage.tokens.output_per_request;
  return {
    latency: {
      ttft_ms: strip(stage.latency.ttft_ms),
      tpot_ms: strip(stage.latency.tpot_ms),
      itl_ms: strip(stage.latency.itl_ms),
      ntpot_ms: strip(stage.latency.ntpot_ms),
      e2e_ms: strip(stage.latency.e2e_ms),
    },
    output_tokens_per_s: stage.throughput.output_tokens_per_s,
    requests: { successful: stage.requests.successful, failed: stage.requests.failed },
    output_tokens_per_request: outTokens,
    duration_s: stage.duration_s,
  };
}

/**
 * What the latency model predicts for the requests the simulator served (their output counts):
 * per-request TTFT, TPOT, NTPOT and E2E from ttft + (n - 1) itl, and every gap = itl. Jitter has
 * median 0, so the p50s stand for the jittered setting too; its spreads are not modelled.
 */
export function nominalFor(setting: CalibrationSetting, trace: readonly TraceRecord[]): Observation {
  const ok = trace.filter((t) => t.status === "ok" && t.first_token_s !== null);
  const per = ok.map((t) => nominal(setting, t.completion_tokens));
  const gaps = ok.reduce((a, t) => a + Math.max(0, t.completion_tokens - 1), 0);
  const jitter = setting.ttftJitterMs > 0 || setting.itlJitterMs > 0;
  const spread = (s: Summary): Summary => (jitter ? { ...emptySummary(), count: s.count, mean: s.mean, p50: s.p50 } : s);
  return {
    latency: {
      ttft_ms: spread(summarize(per.map((p) => p.ttft))),
      tpot_ms: spread(summarize(per.flatMap((p) => (p.tpot === null ? [] : [p.tpot])))),
      itl_ms: spread(gaps > 0 ? { ...summarize([setting.itlMs]), count: gaps } : emptySummary()),
      ntpot_ms: spread(summarize(per.flatMap((p) => (p.ntpot === null ? [] : [p.ntpot])))),
      e2e_ms: spread(summarize(per.map((p) => p.e2e))),
    },
    output_tokens_per_s: null,
    requests: { successful: ok.length, failed: 0 },
    output_tokens_per_request: summarize(ok.map((t) => t.completion_tokens)),
    duration_s: null,
  };
}
