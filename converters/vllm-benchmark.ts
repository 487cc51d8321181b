import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import type { ConvertContext, ConvertResult, Converter } from "../src/harness/contract.ts";
import { fieldPath, versionWarning } from "../src/harness/native.ts";
import type { NativeDistribution, StageInput } from "../src/metrics/compute.ts";
import type { RequestRecord } from "../src/metrics/records.ts";
import type { LoadPoint } from "../src/metrics/schema.ts";
import schema from "./vllm-benchmark.schema.json" with { type: "json" };
import { maxOf, minOf } from "../src/metrics/stats.ts";

/**
 * `vllm bench serve` 0.33.0 result files (--save-result --save-detailed) → stage inputs, one per
 * file. The adapter writes native/stage-<i>.json, one file per profile stage; a single result file
 * of any name converts too. Metrics are recomputed from the per-request arrays; vLLM's summary keys
 * (ms) are only fallbacks. Field meanings were checked against the installed 0.33.0 source
 * (vllm/benchmarks/serve.py, lib/endpoint_request_func.py).
 *
 * Times: start_times are time.perf_counter() seconds (monotonic, not epoch); every duration hub
 * computes is a difference, so that is fine. A request's end is start + latency, and latency ends
 * at its last output chunk (vLLM does not wait for [DONE] in the timing).
 */

export const KNOWN_VERSIONS = ["0.33.0"] as const;
const EXPECTED = `vllm bench serve ${KNOWN_VERSIONS.join("/")}`;

/** Names the adapter gives its result files, one per profile stage. */
export const stageFileName = (i: number) => `stage-${i}.json`;
const STAGE_FILE = /^stage-(\d+)\.json$/;

type Inf = number | "inf";
// The subset of the native document the schema guarantees (converters/vllm-benchmark.schema.json).
interface NativeResult {
  backend: string;
  num_prompts: number;
  request_rate: Inf;
  burstiness: Inf;
  max_concurrency: number | null;
  duration: number;
  completed: number;
  failed: number;
  input_lens: number[];
  output_lens: number[];
  ttfts: number[];
  itls: number[][];
  latencies: number[];
  start_times: number[];
  errors: string[];
  hub_harness_version?: string;
  hub_load?: "synchronous" | "concurrent" | "constant" | "poisson" | "throughput";
  hub_stage?: string;
  [summary: string]: unknown;
}

type Failed = { kind: "failed"; reason: string };
const failed = (reason: string): Failed => ({ kind: "failed", reason });

/**
 * Python's json.dump writes float inf and nan as bare Infinity / NaN, which JSON.parse rejects
 * (vLLM does for burstiness=inf). Outside strings, turn them into "inf", "-inf" and null.
 */
export function pythonJsonToJson(text: string): string {
  if (!/Infinity|NaN/.test(text)) return text;
  let out = "";
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    const rest = (token: string) => text.startsWith(token, i);
    const swap = rest("-Infinity") ? ["-Infinity", '"-inf"'] : rest("Infinity") ? ["Infinity", '"inf"'] : rest("NaN") ? ["NaN", "null"] : undefined;
    if (swap) {
      out += text.slice(from, i) + swap[1];
      i += swap[0]!.length - 1;
      from = i + 1;
    }
  }
  return out + text.slice(from);
}

// readNativeJson (src/harness/native.ts) parses with JSON.parse directly, which the bare Infinity
// above breaks; so the same ajv check is done here after pythonJsonToJson.
const ajv = new Ajv({ allErrors: false, strict: false });
const validate = ajv.compile<NativeResult>(schema);

function describe(e: ErrorObject | undefined): string {
  if (!e) return "does not match the expected structure";
  if (e.keyword === "required") return `field "${fieldPath(e.instancePath, String(e.params["missingProperty"]))}" missing`;
  const where = `field "${fieldPath(e.instancePath)}"`;
  if (e.keyword === "type") return `${where} must be ${String(e.params["type"]).replace(",", " or ")}`;
  return `${where} ${e.message ?? "is invalid"}`;
}

async function readResult(file: string): Promise<{ data: NativeResult } | Failed> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return failed(`${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(pythonJsonToJson(text));
  } catch (e) {
    return failed(`${file}: not valid JSON (${(e as Error).message}; ${EXPECTED} output expected)`);
  }
  const found = (doc as { hub_harness_version?: unknown } | null)?.hub_harness_version;
  const version = typeof found === "string" ? found : "unknown";
  // Without --save-detailed vLLM drops the per-request arrays but keeps latencies: say so.
  if (doc && typeof doc === "object" && "latencies" in doc && !("ttfts" in doc)) {
    return failed(`${file}: field "ttfts" missing: the per-request arrays are written only with --save-detailed (${EXPECTED} output expected; found version ${version})`);
  }
  if (!validate(doc)) return failed(`${file}: ${describe(validate.errors?.[0])} (${EXPECTED} output expected; found version ${version})`);
  const n = doc.start_times.length;
  for (const key of ["input_lens", "output_lens", "ttfts", "itls", "latencies", "errors"] as const) {
    if (doc[key].length !== n) return failed(`${file}: field "${key}" has ${doc[key].length} entries but "start_times" has ${n}; the per-request arrays must align (${EXPECTED} output expected)`);
  }
  return { data: doc };
}

/** The result files: nativePath itself, or its stage-<i>.json files in stage order. */
async function findFiles(nativePath: string): Promise<{ file: string; index: number }[] | Failed> {
  const s = await stat(nativePath).catch(() => undefined);
  if (!s) return failed(`${nativePath}: not found`);
  if (s.isFile()) return [{ file: nativePath, index: 0 }];
  const files = (await readdir(nativePath))
    .map((name) => ({ name, m: STAGE_FILE.exec(name) }))
    .filter((x) => x.m)
    .map((x) => ({ file: join(nativePath, x.name), index: Number(x.m![1]) }))
    .sort((a, b) => a.index - b.index);
  if (files.length === 0) return failed(`${nativePath}: no ${stageFileName(0)} (or other stage-<i>.json): the harness wrote no result (${EXPECTED} output expected)`);
  return files;
}

const finite = (v: Inf): number | undefined => (v === "inf" ? undefined : v);

/** The load point: the adapter's hub_load metadata, else the profile's type, else inferred. */
function loadPoint(d: NativeResult, ctx: ConvertContext): LoadPoint {
  const rate = finite(d.request_rate);
  const cap = d.max_concurrency ?? undefined;
  const type = d.hub_load ?? ctx.profile?.load.type;
  switch (type) {
    case "synchronous":
      return { type: "synchronous" };
    case "concurrent":
    case "throughput":
      return cap !== undefined ? { type, concurrency: cap } : { type };
    case "constant":
    case "poisson":
      return rate !== undefined ? { type, rate } : { type };
  }
  // A file hub did not write: vLLM's own knobs say what it did.
  if (rate === undefined) return cap !== undefined ? { type: "concurrent", concurrency: cap } : { type: "throughput" };
  return { type: d.burstiness === "inf" ? "constant" : "poisson", rate };
}

/** The last line of an error (vLLM stores whole tracebacks), shortened. */
function errorLine(e: string): string {
  const lines = e.trim().split("\n").filter((l) => l.trim() !== "");
  const last = lines[lines.length - 1]?.trim() ?? e;
  return last.length > 300 ? `${last.slice(0, 297)}...` : last;
}

function toRecords(d: NativeResult): RequestRecord[] {
  return d.start_times.map((start, i): RequestRecord => {
    const error = d.errors[i]!;
    const latency = d.latencies[i]!;
    const inputTokens = d.input_lens[i]!;
    // vLLM keeps no success flag; a success has no error and a latency (it got a first chunk).
    if (error !== "" || latency <= 0) {
      return { status: "failed", start_s: start, input_tokens: inputTokens, error: error === "" ? "no output chunk (latency 0)" : errorLine(error) };
    }
    // Chunk arrival times: first chunk at ttft, then each gap; the last one is start + latency.
    const first = start + d.ttfts[i]!;
    const times = [first];
    // Offsets summed from the send, added to the start once (summing onto a large clock value
    // would add its rounding at every token).
    let offset = d.ttfts[i]!;
    for (const gap of d.itls[i]!) times.push(start + (offset += gap));
    return {
      status: "ok",
      start_s: start,
      end_s: start + latency,
      first_token_s: first,
      last_token_s: times[times.length - 1]!,
      token_times_s: times,
      input_tokens: inputTokens,
      output_tokens: d.output_lens[i]!,
    };
  });
}

const METRICS = {
  ttft_ms: ["ttft", "vLLM TTFT: first output chunk - send"],
  tpot_ms: ["tpot", "vLLM TPOT: (latency - ttft)/(output_len - 1) per request with output_len > 1"],
  itl_ms: ["itl", "vLLM ITL: every gap between output chunks, pooled over requests"],
  e2e_ms: ["e2el", "vLLM E2EL: last output chunk - send"],
} as const;

/** vLLM's summary keys as fallbacks: mean, median, std and the --metric-percentiles it wrote. */
function natives(d: NativeResult, file: string): StageInput["native"] {
  const out: StageInput["native"] = {};
  const num = (key: string) => (typeof d[key] === "number" ? (d[key] as number) : null);
  for (const [key, [m, note]] of Object.entries(METRICS) as [keyof typeof METRICS, (typeof METRICS)[keyof typeof METRICS]][]) {
    const mean = num(`mean_${m}_ms`);
    if (mean === null) continue;
    const summary: NativeDistribution["summary"] = {
      count: m === "itl" ? d.itls.reduce((a, l, i) => a + (d.errors[i] === "" ? l.length : 0), 0) : d.completed,
      mean,
      stddev: num(`std_${m}_ms`),
      p50: num(`median_${m}_ms`) ?? num(`p50_${m}_ms`),
      p90: num(`p90_${m}_ms`),
      p95: num(`p95_${m}_ms`),
      p99: num(`p99_${m}_ms`),
      p999: num(`p99.9_${m}_ms`),
    };
    out[key] = { summary, native_field: `${basename(file)}: mean_/median_/std_/p<P>_${m}_ms`, note: `${note}; no min/max reported` };
  }
  return out;
}

function convertFile(d: NativeResult, file: string, index: number, ctx: ConvertContext): StageInput {
  const records = toRecords(d);
  const notes: string[] = [];
  const ok = records.filter((r) => r.status === "ok");
  if (ok.length !== d.completed || records.length - ok.length !== d.failed) {
    notes.push(`request counts differ from vLLM's completed/failed (${d.completed}/${d.failed}; per-request ${ok.length}/${records.length - ok.length})`);
  }
  if (records.length !== d.num_prompts) notes.push(`vLLM sent ${records.length} requests for --num-prompts ${d.num_prompts} (its dataset made that many)`);
  // vLLM divides by `duration`: from just before the first send to when the last request ended.
  // Rebuild that window on the perf_counter clock, ending at the last successful request's end.
  const lastEnd = ok.length > 0 ? maxOf(ok.map((r) => r.end_s!)) : undefined;
  const firstStart = records.length > 0 ? minOf(records.map((r) => r.start_s)) : 0;
  const window = lastEnd !== undefined ? { start_s: lastEnd - d.duration, end_s: lastEnd } : { start_s: firstStart, end_s: firstStart + d.duration };
  notes.push(`throughput window is vLLM's duration (${d.duration.toFixed(3)} s, dispatch start to last request end); request times are vLLM's perf_counter clock, not epoch`);
  return {
    index,
    load: loadPoint(d, ctx),
    records,
    window,
    native: natives(d, file),
    recordSource: `vllm bench serve ${basename(file)} (start_times, ttfts, itls, latencies, input_lens, output_lens, errors)`,
    notes,
  };
}

export const vllmBenchmarkConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath, ctx): Promise<ConvertResult> {
    const files = await findFiles(nativePath);
    if (!Array.isArray(files)) return files;
    const warnings: string[] = [];
    const stages: StageInput[] = [];
    const recorded = new Set<string>();
    for (const { file, index } of files) {
      const read = await readResult(file);
      if ("kind" in read) return read;
      const d = read.data;
      if (d.hub_harness_version) recorded.add(d.hub_harness_version);
      const stage = d.hub_stage !== undefined ? Number(d.hub_stage) : index;
      stages.push(convertFile(d, file, stage, ctx));
    }
    // vLLM records no version of its own; the adapter passes hub's pin as --metadata.
    const version = ctx.harnessVersion ?? (recorded.size === 1 ? [...recorded][0]! : null);
    if (recorded.size > 1) warnings.push(`result files name different vllm versions (${[...recorded].join(", ")})`);
    const vw = versionWarning("vllm bench serve", KNOWN_VERSIONS, version);
    if (vw) warnings.push(vw);
    if (ctx.profile && ctx.profile.load.type !== "sweep" && stages.length < ctx.profile.load.stages.length) {
      warnings.push(`vllm bench serve wrote results for ${stages.length} of ${ctx.profile.load.stages.length} stages`);
    }
    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
