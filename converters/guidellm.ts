import type { ConvertResult, Converter } from "../src/harness/contract.ts";
import { readNativeJson, resolveNativeFile, versionWarning } from "../src/harness/native.ts";
import type { NativeDistribution, StageInput } from "../src/metrics/compute.ts";
import type { RequestRecord } from "../src/metrics/records.ts";
import type { LoadPoint } from "../src/metrics/schema.ts";
import schema from "./guidellm.schema.json" with { type: "json" };

/**
 * guidellm 0.8.1 benchmarks.json → stage inputs. One stage per `benchmarks[i]` (one per strategy
 * guidellm ran). Metrics are recomputed from the per-request stats guidellm keeps for every
 * request; guidellm's own aggregates are only fallbacks. Field meanings were checked against the
 * installed 0.8.1 source (guidellm/schemas/base/request_stats.py, benchmark/schemas/*.py).
 */

export const KNOWN_VERSIONS = ["0.8.1"] as const;
const EXPECTED = `guidellm ${KNOWN_VERSIONS.join("/")}`;

// The subset of the native document the schema guarantees (converters/guidellm.schema.json).
type Num = number | null;
interface NativeDist {
  count: number;
  mean: Num;
  std_dev: Num;
  min: Num;
  max: Num;
  percentiles: { p50: Num; p90: Num; p95: Num; p99: Num; p999: Num };
}
interface Counts {
  successful: number;
  errored: number;
  incomplete: number;
}
interface NativeRequest {
  info: { timings: { request_start: Num; first_token_iteration: Num; last_token_iteration: Num; request_end: Num }; error?: string | null };
  request_start_time: Num;
  request_end_time: number;
  prompt_tokens: number | null;
  output_tokens: number | null;
}
interface NativeBenchmark {
  config: {
    strategy: { type_: "synchronous" | "concurrent" | "throughput" | "constant" | "poisson"; streams?: number; rate?: number; max_concurrency?: number | null };
    profile?: { max_concurrency?: number | null };
    sample_size?: number | null;
  };
  scheduler_metrics: { measure_start_time: number; measure_end_time: number; requests_made: Counts };
  metrics: {
    request_totals: Counts;
    request_latency: { successful: NativeDist };
    time_to_first_token_ms: { successful: NativeDist };
    time_per_output_token_ms: { successful: NativeDist };
    inter_token_latency_ms: { successful: NativeDist };
  };
  requests: { successful: NativeRequest[]; errored: NativeRequest[]; incomplete: NativeRequest[] };
}
interface NativeReport {
  metadata: { guidellm_version: string };
  benchmarks: NativeBenchmark[];
}

function loadPoint(config: NativeBenchmark["config"]): LoadPoint {
  const s = config.strategy;
  switch (s.type_) {
    case "concurrent":
      return { type: "concurrent", concurrency: s.streams! };
    case "constant":
    case "poisson":
      return { type: s.type_, rate: s.rate! };
    case "throughput": {
      // Without a cap the strategy carries guidellm's internal limit (10240); report the cap the
      // run asked for, which the profile args keep.
      const cap = config.profile ? config.profile.max_concurrency : s.max_concurrency;
      return cap ? { type: "throughput", concurrency: cap } : { type: "throughput" };
    }
    case "synchronous":
      return { type: "synchronous" };
  }
}

function toRecord(r: NativeRequest, status: RequestRecord["status"]): RequestRecord | undefined {
  const t = r.info.timings;
  const start = t.request_start ?? r.request_start_time;
  if (start === null) return undefined;
  const rec: RequestRecord = { status, start_s: start, end_s: t.request_end ?? r.request_end_time };
  if (t.first_token_iteration !== null) rec.first_token_s = t.first_token_iteration;
  if (t.last_token_iteration !== null) rec.last_token_s = t.last_token_iteration;
  if (r.prompt_tokens !== null) rec.input_tokens = r.prompt_tokens;
  if (r.output_tokens !== null) rec.output_tokens = r.output_tokens;
  if (status !== "ok" && r.info.error) rec.error = r.info.error;
  return rec;
}

function nativeDist(d: NativeDist, field: string, scale: number, note: string): NativeDistribution {
  const s = (v: Num) => (v === null ? null : v * scale);
  const p = d.percentiles;
  return {
    summary: { count: d.count, mean: s(d.mean), stddev: s(d.std_dev), min: s(d.min), max: s(d.max), p50: s(p.p50), p90: s(p.p90), p95: s(p.p95), p99: s(p.p99), p999: s(p.p999) },
    native_field: field,
    note,
  };
}

/**
 * guidellm's own distributions, as fallbacks. They are built from the same per-request stats the
 * records come from, and guidellm counts a missing per-request value as 0 (non-streaming runs
 * report TTFT and ITL of 0 ms), so one is offered only when every successful request had the
 * value it is built from.
 */
function natives(b: NativeBenchmark, i: number, ok: RequestRecord[]): StageInput["native"] {
  const m = b.metrics;
  const at = (name: string) => `benchmarks[${i}].metrics.${name}.successful`;
  const all = (has: (r: RequestRecord) => boolean) => ok.length > 0 && ok.every(has);
  const hasTokens = all((r) => r.first_token_s !== undefined && r.last_token_s !== undefined && (r.output_tokens ?? 0) > 1);
  const out: NonNullable<StageInput["native"]> = {};
  const offer = (key: keyof typeof out, d: NativeDist, usable: boolean, field: string, scale: number, note: string) => {
    if (usable && d.count > 0) out[key] = nativeDist(d, at(field), scale, note);
  };
  offer("ttft_ms", m.time_to_first_token_ms.successful, all((r) => r.first_token_s !== undefined), "time_to_first_token_ms", 1, "guidellm: first token - request start");
  // guidellm's per-request ITL is hub's per-request TPOT; only the weighting differs.
  offer("tpot_ms", m.inter_token_latency_ms.successful, hasTokens, "inter_token_latency_ms", 1, "guidellm inter_token_latency: per request (last token - first token)/(n-1), which is hub's TPOT, but weighted by n-1 instead of one per request");
  offer("itl_ms", m.inter_token_latency_ms.successful, hasTokens, "inter_token_latency_ms", 1, "guidellm inter_token_latency: each request's mean gap weighted by n-1, not the pooled gaps; the mean matches, the spread is understated");
  // guidellm's "TPOT" includes the first token: (last token - start)/n, close to hub's NTPOT.
  offer("ntpot_ms", m.time_per_output_token_ms.successful, all((r) => (r.output_tokens ?? 0) > 0), "time_per_output_token_ms", 1, "guidellm time_per_output_token: (last token - request start)/n, weighted by n; hub's NTPOT is (end - start)/n per request");
  offer("e2e_ms", m.request_latency.successful, all((r) => r.end_s !== undefined), "request_latency", 1000, "guidellm request_latency, seconds converted to ms");
  return out;
}

function convertBenchmark(b: NativeBenchmark, i: number, file: string): { stage: StageInput } | { error: string } {
  const made = b.scheduler_metrics.requests_made;
  const kept = b.requests;
  // With metrics sample_size N > 0 guidellm keeps only N requests per status: recomputing from
  // them would pass a sample off as the whole run.
  if (kept.successful.length < made.successful || kept.errored.length < made.errored) {
    return {
      error:
        `${file}: benchmarks[${i}].requests keeps ${kept.successful.length} of ${made.successful} successful and ${kept.errored.length} of ${made.errored} errored requests ` +
        `(guidellm --metrics sample_size=${b.config.sample_size ?? "?"}); hub needs every request: rerun with --metrics '{"kind":"generative","sample_size":0}'`,
    };
  }

  const { measure_start_time: from, measure_end_time: to } = b.scheduler_metrics;
  const notes: string[] = [];
  const records: RequestRecord[] = [];
  let outside = 0;
  let unstarted = 0;
  const groups: [NativeRequest[], RequestRecord["status"]][] = [
    [kept.successful, "ok"],
    [kept.errored, "failed"],
    [kept.incomplete, "incomplete"],
  ];
  for (const [list, status] of groups) {
    for (const r of list) {
      const rec = toRecord(r, status);
      if (!rec) {
        unstarted++;
        continue;
      }
      // guidellm's own metrics keep requests overlapping its measured window (warmup and
      // cooldown excluded); do the same so counts agree with metrics.request_totals.
      if (r.request_end_time < from || rec.start_s > to) {
        outside++;
        continue;
      }
      records.push(rec);
    }
  }
  if (outside > 0) notes.push(`${outside} requests outside guidellm's measured window (warmup/cooldown) were left out, as guidellm does`);
  if (unstarted > 0) notes.push(`${unstarted} requests had no start time and were left out`);

  const totals = b.metrics.request_totals;
  const count = (s: RequestRecord["status"]) => records.filter((r) => r.status === s).length;
  if (count("ok") !== totals.successful || count("failed") !== totals.errored || count("incomplete") !== totals.incomplete) {
    notes.push(
      `request counts differ from guidellm's metrics.request_totals (successful/errored/incomplete ${totals.successful}/${totals.errored}/${totals.incomplete}, per-request ${count("ok")}/${count("failed")}/${count("incomplete")})`,
    );
  }

  return {
    stage: {
      index: i,
      load: loadPoint(b.config),
      records,
      window: { start_s: from, end_s: to },
      native: natives(b, i, records.filter((r) => r.status === "ok")),
      recordSource: `guidellm benchmarks[${i}].requests (info.timings, prompt_tokens, output_tokens)`,
      notes,
    },
  };
}

export const guidellmConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath): Promise<ConvertResult> {
    const found = await resolveNativeFile(nativePath, "benchmarks.json");
    if (found.kind === "failed") return found;
    const read = await readNativeJson<NativeReport>(found.file, schema, {
      expected: EXPECTED,
      versionOf: (d) => (d as { metadata?: { guidellm_version?: string } })?.metadata?.guidellm_version,
    });
    if (read.kind === "failed") return read;

    const report = read.data;
    const version = report.metadata.guidellm_version;
    const warnings: string[] = [];
    const vw = versionWarning("guidellm", KNOWN_VERSIONS, version);
    if (vw) warnings.push(vw);
    if (report.benchmarks.length === 0) return { kind: "failed", reason: `${read.file}: field "benchmarks" is empty: guidellm finished no benchmark (${EXPECTED} output expected)` };

    const stages: StageInput[] = [];
    for (const [i, b] of report.benchmarks.entries()) {
      const r = convertBenchmark(b, i, read.file);
      if ("error" in r) return { kind: "failed", reason: r.error };
      stages.push(r.stage);
    }
    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
