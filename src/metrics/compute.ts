import type { RequestRecord } from "./records.ts";
import type { Distribution, LatencyKey, LoadPoint, Provenance, Stage } from "./schema.ts";
import { emptySummary, summarize, summarizeWeighted, type Summary } from "./stats.ts";
import { checkRecords, describeDropped, MAX_TIME_S } from "./validate.ts";

/** A distribution a harness reported itself, already converted to hub's unit. */
export interface NativeDistribution {
  summary: Partial<Summary>;
  native_field: string;
  note?: string;
}

export interface StageInput {
  index: number;
  load: LoadPoint;
  records: RequestRecord[];
  /**
   * The wall window throughputs are divided by. Defaults to first send .. last end over all
   * records (failed ones included), which is what a harness without its own window measures.
   */
  window?: { start_s: number; end_s: number };
  /** Used for a metric only when the records cannot give it. */
  native?: Partial<Record<LatencyKey, NativeDistribution>>;
  /** The harness's own throughputs, used only when the records cannot give them. */
  nativeThroughput?: Partial<Stage["throughput"]>;
  /** Names the per-request source fields, for provenance. */
  recordSource?: string;
  notes?: string[];
  /** With --parallel: each worker's share, carried into the stage as it is. */
  workers?: Stage["workers"];
}

function distribution(summary: Summary, provenance: Provenance): Distribution {
  return { ...summary, provenance };
}

function fromNative(native: NativeDistribution | undefined): Distribution | undefined {
  if (!native) return undefined;
  // A harness's own aggregate is used only when every number in it is a possible latency.
  const bad = Object.entries(native.summary).find(([, v]) => v !== null && v !== undefined && !(Number.isFinite(v) && v >= 0 && v <= MAX_TIME_S * 1000));
  if (bad) return unavailable(`${native.native_field}: ${bad[0]} = ${String(bad[1])} is not a possible value; not used`);
  const s = { ...emptySummary(), ...native.summary };
  return distribution(s, { source: "native", native_field: native.native_field, ...(native.note ? { note: native.note } : {}) });
}

const unavailable = (why: string): Distribution =>
  distribution(emptySummary(), { source: "native", note: why });

/**
 * Computes one stage of metrics.json from per-request records, with the definitions in
 * docs/metrics.md. Native aggregates fill in only what the records cannot give.
 */
export function computeStage(input: StageInput): Stage {
  // Records that break the rules in validate.ts are dropped and named in the stage's notes.
  const check = checkRecords(input.records);
  const records = check.records;
  const ok = records.filter((r) => r.status === "ok");
  const failed = records.filter((r) => r.status === "failed").length;
  const incomplete = records.filter((r) => r.status === "incomplete").length;
  const notes = [...(input.notes ?? []), ...describeDropped(check, input.records.length)];
  const src = input.recordSource ?? "per-request records";

  const ttft: number[] = [];
  const e2e: number[] = [];
  const tpot: number[] = [];
  const ntpot: number[] = [];
  const itl: number[] = [];
  // Requests with only first/last token times: one mean gap each, standing for its n-1 gaps.
  const itlMeanGaps: number[] = [];
  const itlGapCounts: number[] = [];
  const inputTokens: number[] = [];
  const outputTokens: number[] = [];
  let itlApproximated = 0;
  let inputSum = 0;
  let outputSum = 0;

  for (const r of ok) {
    const t = r.first_token_s !== undefined ? (r.first_token_s - r.start_s) * 1000 : undefined;
    const e = r.end_s !== undefined ? (r.end_s - r.start_s) * 1000 : undefined;
    const n = r.output_tokens;
    if (t !== undefined) ttft.push(t);
    if (e !== undefined) e2e.push(e);
    if (n !== undefined) {
      outputTokens.push(n);
      outputSum += n;
    }
    if (r.input_tokens !== undefined) {
      inputTokens.push(r.input_tokens);
      inputSum += r.input_tokens;
    }
    if (e !== undefined && n !== undefined && n > 0) ntpot.push(e / n);
    if (e !== undefined && t !== undefined && n !== undefined && n > 1) tpot.push((e - t) / (n - 1));

    if (r.token_times_s && r.token_times_s.length > 1) {
      const times = r.token_times_s;
      for (let i = 1; i < times.length; i++) itl.push((times[i]! - times[i - 1]!) * 1000);
    } else if (r.first_token_s !== undefined && r.last_token_s !== undefined && n !== undefined && n > 1) {
      // Only the first and last token times are known: every gap of this request is taken to be
      // the request's mean gap. Exact mean, narrower spread than the true pooled distribution.
      itlMeanGaps.push(((r.last_token_s - r.first_token_s) * 1000) / (n - 1));
      itlGapCounts.push(n - 1);
      itlApproximated++;
    }
  }

  const recomputed = (fields: string, note?: string): Provenance => ({
    source: "recomputed",
    native_field: `${src}: ${fields}`,
    ...(note ? { note } : {}),
  });

  const pickSummary = (key: LatencyKey, summary: Summary, fields: string, note?: string): Distribution => {
    if (summary.count > 0) return distribution(summary, recomputed(fields, note));
    return fromNative(input.native?.[key]) ?? unavailable(ok.length === 0 ? "no successful request" : `not derivable from ${src}`);
  };
  const pick = (key: LatencyKey, values: number[], fields: string, note?: string): Distribution => pickSummary(key, summarize(values), fields, note);
  const itlSummary =
    itlMeanGaps.length === 0
      ? summarize(itl)
      : summarizeWeighted([...itlMeanGaps, ...itl], [...itlGapCounts, ...itl.map(() => 1)]);

  const itlNote =
    itlApproximated > 0
      ? `${itlApproximated} of ${ok.length} requests had no per-token times; each of their n-1 gaps is taken as (last token - first token)/(n-1), so the spread is understated`
      : undefined;

  const window = soundWindow(input.window, notes) ?? recordsWindow(records);
  const duration = Math.max(0, window.end_s - window.start_s);
  const rate = (x: number) => (duration > 0 ? x / duration : null);
  const finished = ok.length + failed;

  return {
    index: input.index,
    load: input.load,
    duration_s: duration,
    requests: { total: records.length, successful: ok.length, failed, incomplete },
    failure_rate: finished > 0 ? failed / finished : null,
    throughput: {
      requests_per_s: records.length > 0 ? rate(ok.length) : (input.nativeThroughput?.requests_per_s ?? null),
      input_tokens_per_s: inputTokens.length > 0 ? rate(inputSum) : (input.nativeThroughput?.input_tokens_per_s ?? null),
      output_tokens_per_s: outputTokens.length > 0 ? rate(outputSum) : (input.nativeThroughput?.output_tokens_per_s ?? null),
      total_tokens_per_s:
        inputTokens.length > 0 && outputTokens.length > 0 ? rate(inputSum + outputSum) : (input.nativeThroughput?.total_tokens_per_s ?? null),
    },
    latency: {
      ttft_ms: pick("ttft_ms", ttft, "first token - send"),
      tpot_ms: pick("tpot_ms", tpot, "(e2e - ttft)/(output_tokens - 1)"),
      itl_ms: pickSummary("itl_ms", itlSummary, itlApproximated > 0 ? "first/last token times" : "token arrival times", itlNote),
      ntpot_ms: pick("ntpot_ms", ntpot, "e2e/output_tokens"),
      e2e_ms: pick("e2e_ms", e2e, "end - send"),
    },
    tokens: {
      input_per_request: pick2(inputTokens, recomputed("input tokens")),
      output_per_request: pick2(outputTokens, recomputed("output tokens")),
    },
    notes,
    ...(input.workers ? { workers: input.workers } : {}),
  };
}

/** A harness's own window, when it is one; otherwise undefined (with a note) so the records' is used. */
function soundWindow(w: StageInput["window"], notes: string[]): StageInput["window"] {
  if (w === undefined) return undefined;
  const ok = Number.isFinite(w.start_s) && Number.isFinite(w.end_s) && w.end_s >= w.start_s && Math.abs(w.start_s) <= MAX_TIME_S && Math.abs(w.end_s) <= MAX_TIME_S;
  if (ok) return w;
  notes.push(`the harness's own window (${w.start_s} .. ${w.end_s}) is not a time interval; throughputs use first send .. last end instead`);
  return undefined;
}

/** First send to last end over all records (failed ones included); a loop, not a spread, for any size. */
export function recordsWindow(records: readonly RequestRecord[]): { start_s: number; end_s: number } {
  if (records.length === 0) return { start_s: 0, end_s: 0 };
  let start = Infinity;
  let end = -Infinity;
  for (const r of records) {
    if (r.start_s < start) start = r.start_s;
    const e = r.end_s ?? r.start_s;
    if (e > end) end = e;
  }
  return { start_s: start, end_s: end };
}

function pick2(values: number[], provenance: Provenance): Distribution {
  return distribution(summarize(values), values.length > 0 ? provenance : { source: "native", note: "not reported" });
}
