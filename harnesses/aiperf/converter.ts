import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ConvertContext, ConvertResult, Converter, NativeDistribution, Profile, RequestRecord, StageInput } from "harness-hub";

/**
 * aiperf 0.13.0 artifact folders → stage inputs, written only against harness-hub's public API.
 *
 * Metrics are recomputed from the per-request export `profile_export.jsonl` (aiperf's default
 * export level, "records"): each line has the request's wall-clock start and end
 * (`metadata.request_start_ns`, `request_end_ns`, time.time_ns()), its `time_to_first_token`,
 * `request_latency` and the gap between every two content chunks (`inter_chunk_latency`, a list),
 * token counts and the error. The summary `profile_export_aiperf.json` gives the version, the
 * load point (`input_config.phases`) and aiperf's own aggregates as fallbacks. Field meanings
 * were checked against the installed 0.13.0 source (metrics/types/*.py, common/models/record_models.py,
 * post_processors/record_export_jsonl_writer.py).
 *
 * The adapter runs one aiperf process per stage into native/stage_<i>/; a folder aiperf wrote on
 * its own (profile_export_aiperf.json directly inside) converts as one stage.
 */

export const VERSION = "0.13.0";
export const KNOWN_VERSIONS = [VERSION] as const;
const EXPECTED = `aiperf ${KNOWN_VERSIONS.join("/")} output expected`;

export const SUMMARY_FILE = "profile_export_aiperf.json";
export const RECORDS_FILE = "profile_export.jsonl";
export const stageDir = (i: number) => `stage_${i}`;
const STAGE_DIR = /^stage_(\d+)$/;

type Failed = { kind: "failed"; reason: string };
const failed = (reason: string): Failed => ({ kind: "failed", reason });

// ---------------------------------------------------------------------------------------------
// The fields read, and a check of their types before use (the public API has no schema helper).

interface Value {
  value: number | number[];
  unit: string;
}
interface NativeRecord {
  metadata: { request_start_ns: number; request_end_ns: number; benchmark_phase?: string; was_cancelled?: boolean };
  metrics: Record<string, Value>;
  error: { code?: number | null; type?: string | null; message?: string | null } | null;
}
interface SummaryStat {
  unit: string;
  avg?: number | null;
  min?: number | null;
  max?: number | null;
  std?: number | null;
  p50?: number | null;
  p90?: number | null;
  p95?: number | null;
  p99?: number | null;
  count?: number;
}
interface Phase {
  kind?: string;
  name?: string;
  type?: string;
  concurrency?: number | null;
  rate?: number | null;
}
interface Summary {
  aiperf_version?: string;
  input_config?: { phases?: Phase[] };
  [tag: string]: unknown;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** The first problem with one JSONL line, as `field "metadata.request_start_ns" ...`. */
function recordProblem(r: unknown): string | undefined {
  if (!isObj(r)) return "line: must be a JSON object";
  const m = r["metadata"];
  if (!isObj(m)) return `field "metadata" missing`;
  for (const f of ["request_start_ns", "request_end_ns"]) if (!isNum(m[f])) return `field "metadata.${f}" must be a number`;
  if (r["metrics"] !== undefined && !isObj(r["metrics"])) return `field "metrics" must be an object`;
  for (const [tag, v] of Object.entries((r["metrics"] as Record<string, unknown> | undefined) ?? {})) {
    if (!isObj(v) || typeof v["unit"] !== "string" || !(isNum(v["value"]) || (Array.isArray(v["value"]) && v["value"].every(isNum)))) {
      return `field "metrics.${tag}" must be {value: number or number[], unit: string}`;
    }
  }
  if (r["error"] !== null && r["error"] !== undefined && !isObj(r["error"])) return `field "error" must be an object or null`;
  return undefined;
}

/** Milliseconds per unit of an aiperf time metric. */
const MS_PER: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, sec: 1000 };

function ms(v: Value | undefined, file: string, tag: string): number | number[] | undefined | Failed {
  if (!v) return undefined;
  const k = MS_PER[v.unit];
  if (k === undefined) return failed(`${file}: metric "${tag}" has unit "${v.unit}", not a time unit (${EXPECTED})`);
  return Array.isArray(v.value) ? v.value.map((x) => x * k) : v.value * k;
}

const isFailed = (x: unknown): x is Failed => isObj(x) && x["kind"] === "failed";

// ---------------------------------------------------------------------------------------------

async function readJson(file: string): Promise<unknown | Failed> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return failed(`${file}: cannot be read`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return failed(`${file}: not valid JSON (${(e as Error).message}; ${EXPECTED})`);
  }
}

async function readRecords(file: string): Promise<NativeRecord[] | Failed> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return failed(`${file}: cannot be read`);
  const out: NativeRecord[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    let r: unknown;
    try {
      r = JSON.parse(line);
    } catch (e) {
      return failed(`${file}: line ${i + 1} is not valid JSON (${(e as Error).message}; ${EXPECTED})`);
    }
    const problem = recordProblem(r);
    if (problem) return failed(`${file}: line ${i + 1}: ${problem} (${EXPECTED})`);
    out.push(r as NativeRecord);
  }
  return out;
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;
const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;

/** Artifact folders with their stage index: nativePath's stage_<i>/ folders, or nativePath itself. */
async function artifactDirs(nativePath: string): Promise<{ index: number; dir: string }[] | Failed> {
  if (!(await exists(nativePath))) return failed(`${nativePath}: not found`);
  const root = (await isDir(nativePath)) ? nativePath : dirname(nativePath);
  const holds = async (d: string) => (await exists(join(d, SUMMARY_FILE))) || (await exists(join(d, RECORDS_FILE)));
  if (await holds(root)) return [{ index: 0, dir: root }];
  const found: { index: number; dir: string }[] = [];
  for (const name of await readdir(root)) {
    const m = STAGE_DIR.exec(name);
    if (m) found.push({ index: Number(m[1]), dir: join(root, name) });
  }
  if (found.length === 0) return failed(`${root}: no ${SUMMARY_FILE} or ${RECORDS_FILE}, in it or in stage_N/ folders: aiperf wrote no results (${EXPECTED})`);
  return found.sort((a, b) => a.index - b.index);
}

function loadPoint(phase: Phase | undefined, index: number, profile: Profile | undefined): StageInput["load"] {
  // The profile, when hub ran aiperf, says what the stage meant (synchronous is concurrency 1).
  const stage = profile?.load.stages[index];
  if (profile?.load.type === "synchronous") return { type: "synchronous" };
  switch (phase?.type) {
    case "concurrency":
      return isNum(phase.concurrency) ? { type: "concurrent", concurrency: phase.concurrency } : { type: "concurrent" };
    case "constant":
    case "poisson":
      return isNum(phase.rate) ? { type: phase.type, rate: phase.rate } : { type: phase.type };
  }
  if (profile && stage) {
    if (profile.load.type === "concurrent") return { type: "concurrent", ...(stage.concurrency ? { concurrency: stage.concurrency } : {}) };
    if (profile.load.type === "constant" || profile.load.type === "poisson") return { type: profile.load.type, ...(stage.rate ? { rate: stage.rate } : {}) };
  }
  return { type: "concurrent" };
}

/** aiperf's own aggregates, used only for what the records cannot give. */
function natives(summary: Summary, file: string): { native: StageInput["native"]; failed?: Failed } {
  const out: NonNullable<StageInput["native"]> = {};
  const map = {
    ttft_ms: ["time_to_first_token", "aiperf time_to_first_token: first content chunk - request start"],
    tpot_ms: ["inter_token_latency", "aiperf inter_token_latency: (request_latency - ttft)/(output tokens - 1) per request, request_latency ending at the last content chunk"],
    itl_ms: ["inter_chunk_latency", "aiperf inter_chunk_latency: gaps between content chunks, pooled"],
    e2e_ms: ["request_latency", "aiperf request_latency: last content chunk - request start"],
  } as const;
  for (const [key, [tag, note]] of Object.entries(map) as [keyof typeof map, (typeof map)[keyof typeof map]][]) {
    const s = summary[tag];
    if (!isObj(s) || typeof s["unit"] !== "string") continue;
    const st = s as unknown as SummaryStat;
    const k = MS_PER[st.unit];
    if (k === undefined) return { native: out, failed: failed(`${file}: field "${tag}.unit" is "${st.unit}", not a time unit (${EXPECTED})`) };
    const v = (x: number | null | undefined) => (isNum(x) ? x * k : null);
    const summaryOut: NativeDistribution["summary"] = { count: isNum(st.count) ? st.count : 0, mean: v(st.avg), stddev: v(st.std), min: v(st.min), max: v(st.max), p50: v(st.p50), p90: v(st.p90), p95: v(st.p95), p99: v(st.p99), p999: null };
    out[key] = { summary: summaryOut, native_field: `${basename(file)}: ${tag}`, note: `${note}; ${st.unit} converted to ms` };
  }
  return { native: out };
}

/** One record; counts of what was missing go into `missing`. */
function toRecord(r: NativeRecord, file: string, line: number): RequestRecord | Failed {
  const start = r.metadata.request_start_ns / 1e9;
  const end = r.metadata.request_end_ns / 1e9;
  if (r.metadata.was_cancelled) return { status: "incomplete", start_s: start, end_s: end };
  if (r.error) {
    const e = r.error;
    const what = [e.code !== null && e.code !== undefined ? `HTTP ${e.code}` : undefined, e.type ?? undefined, e.message ?? undefined].filter(Boolean).join(": ");
    return { status: "failed", start_s: start, end_s: end, ...(what ? { error: what } : {}) };
  }
  const at = `${file}: line ${line}`;
  const ttft = ms(r.metrics["time_to_first_token"], at, "time_to_first_token");
  const latency = ms(r.metrics["request_latency"], at, "request_latency");
  const icl = ms(r.metrics["inter_chunk_latency"], at, "inter_chunk_latency");
  for (const x of [ttft, latency, icl]) if (isFailed(x)) return x;
  const rec: RequestRecord = { status: "ok", start_s: start, end_s: end };
  const count = (tag: string) => {
    const v = r.metrics[tag]?.value;
    return isNum(v) ? v : undefined;
  };
  // Server usage first (the adapter passes --use-server-token-count), else aiperf's own count.
  const input = count("usage_prompt_tokens") ?? count("input_sequence_length");
  const output = count("usage_completion_tokens") ?? count("output_sequence_length");
  if (input !== undefined) rec.input_tokens = input;
  if (output !== undefined) rec.output_tokens = output;
  if (typeof ttft === "number") {
    // Durations come from aiperf's perf_counter; anchored at the wall-clock start.
    const first = start + ttft / 1000;
    rec.first_token_s = first;
    if (Array.isArray(icl)) {
      // Offsets summed in ms from the send, then added to the epoch start once: summing the gaps
      // onto an epoch-seconds float would lose up to a few µs to rounding over a long response.
      const times = [first];
      let offsetMs = ttft;
      for (const gap of icl) {
        offsetMs += gap;
        times.push(start + offsetMs / 1000);
      }
      rec.token_times_s = times;
      rec.last_token_s = times[times.length - 1]!;
    } else if (typeof latency === "number") {
      rec.last_token_s = start + latency / 1000;
    } else {
      rec.last_token_s = first;
    }
  }
  return rec;
}

async function convertStage(index: number, dir: string, ctx: ConvertContext, warnings: string[]): Promise<{ stage: StageInput; version: string | null } | Failed> {
  const summaryFile = join(dir, SUMMARY_FILE);
  const recordsFile = join(dir, RECORDS_FILE);
  let summary: Summary | undefined;
  if (await exists(summaryFile)) {
    const doc = await readJson(summaryFile);
    if (isFailed(doc)) return doc;
    if (!isObj(doc)) return failed(`${summaryFile}: document root must be an object (${EXPECTED})`);
    if (doc["aiperf_version"] !== undefined && typeof doc["aiperf_version"] !== "string") return failed(`${summaryFile}: field "aiperf_version" must be a string (${EXPECTED})`);
    const phases = isObj(doc["input_config"]) ? doc["input_config"]["phases"] : undefined;
    if (phases !== undefined && !(Array.isArray(phases) && phases.every(isObj))) return failed(`${summaryFile}: field "input_config.phases" must be an array of objects (${EXPECTED})`);
    summary = doc as Summary;
  }
  const version = summary?.aiperf_version ?? ctx.harnessVersion ?? null;
  const phase = summary?.input_config?.phases?.find((p) => p.kind === "profiling" || p.name === "profiling");
  const notes: string[] = [];

  let records: RequestRecord[] = [];
  let recordSource: string | undefined;
  let window: StageInput["window"];
  if (await exists(recordsFile)) {
    const lines = await readRecords(recordsFile);
    if (isFailed(lines)) return lines;
    let warmup = 0;
    for (const [i, r] of lines.entries()) {
      // Warmup requests are not part of the measurement, as in aiperf's own metrics.
      if (r.metadata.benchmark_phase !== undefined && r.metadata.benchmark_phase !== "profiling") {
        warmup++;
        continue;
      }
      const rec = toRecord(r, recordsFile, i + 1);
      if (isFailed(rec)) return rec;
      records.push(rec);
    }
    if (warmup > 0) notes.push(`${warmup} warmup requests were left out, as aiperf does`);
    recordSource = `aiperf ${stageDirName(dir)}${RECORDS_FILE} (metadata.request_start_ns, request_end_ns; metrics time_to_first_token, inter_chunk_latency, usage_prompt_tokens, usage_completion_tokens; error)`;
  } else if (summary) {
    warnings.push(`${dir}: no ${RECORDS_FILE} (aiperf --export-level summary?): latencies are aiperf's own aggregates, request counts and throughputs come from the summary`);
    const count = (tag: string) => {
      const s = summary[tag];
      return isObj(s) && isNum(s["avg"]) ? s["avg"] : 0;
    };
    records = [
      ...Array.from({ length: count("request_count") }, (): RequestRecord => ({ status: "ok", start_s: 0 })),
      ...Array.from({ length: count("error_request_count") }, (): RequestRecord => ({ status: "failed", start_s: 0 })),
    ];
    // Count-only records carry no times: requests/s needs aiperf's own duration.
    const duration = count("benchmark_duration");
    if (duration > 0) window = { start_s: 0, end_s: duration };
  } else {
    return failed(`${dir}: neither ${SUMMARY_FILE} nor ${RECORDS_FILE} (${EXPECTED})`);
  }

  let native: StageInput["native"];
  const nativeThroughput: StageInput["nativeThroughput"] = {};
  if (summary) {
    const n = natives(summary, summaryFile);
    if (n.failed) return n.failed;
    native = n.native;
    const avg = (tag: string) => {
      const s = summary[tag];
      return isObj(s) && isNum(s["avg"]) ? s["avg"] : undefined;
    };
    const rps = avg("request_throughput");
    const out = avg("output_token_throughput");
    const inp = avg("input_token_throughput");
    const tot = avg("total_token_throughput");
    if (rps !== undefined) nativeThroughput.requests_per_s = rps;
    if (out !== undefined) nativeThroughput.output_tokens_per_s = out;
    if (inp !== undefined) nativeThroughput.input_tokens_per_s = inp;
    if (tot !== undefined) nativeThroughput.total_tokens_per_s = tot;
    const okCount = records.filter((r) => r.status === "ok").length;
    const theirs = avg("request_count");
    if (recordSource && theirs !== undefined && theirs !== okCount) notes.push(`aiperf's request_count (${theirs}) differs from the ${okCount} successful requests in ${RECORDS_FILE}`);
  }

  return {
    version,
    stage: {
      index,
      load: loadPoint(phase, index, ctx.profile),
      records,
      ...(window ? { window } : {}),
      ...(native ? { native } : {}),
      ...(Object.keys(nativeThroughput).length > 0 ? { nativeThroughput } : {}),
      ...(recordSource ? { recordSource } : {}),
      notes,
    },
  };
}

const stageDirName = (dir: string) => (STAGE_DIR.test(basename(dir)) ? `${basename(dir)}/` : "");

export const aiperfConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath, ctx): Promise<ConvertResult> {
    const dirs = await artifactDirs(nativePath);
    if (isFailed(dirs)) return dirs;
    const warnings: string[] = [];
    const stages: StageInput[] = [];
    const versions = new Set<string>();
    for (const { index, dir } of dirs) {
      const r = await convertStage(index, dir, ctx, warnings);
      if (isFailed(r)) return r;
      if (r.version) versions.add(r.version);
      stages.push(r.stage);
    }
    const expectedStages = ctx.profile?.load.stages.length;
    if (expectedStages !== undefined && stages.length < expectedStages) {
      warnings.push(`aiperf wrote results for ${stages.length} of the profile's ${expectedStages} stages (a stage's aiperf process failed or was stopped)`);
    }
    if (versions.size > 1) warnings.push(`the stages were written by different aiperf versions: ${[...versions].join(", ")}`);
    const version = [...versions][0] ?? null;
    if (version === null) warnings.push(`aiperf output does not say which version wrote it; the converter was checked against ${KNOWN_VERSIONS.join(", ")}`);
    else if (!(KNOWN_VERSIONS as readonly string[]).includes(version)) {
      warnings.push(`aiperf output was written by version ${version}; the converter was checked against ${KNOWN_VERSIONS.join(", ")} only, so fields may have changed meaning`);
    }
    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
