import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ConvertContext, ConvertResult, Converter, NativeDistribution, RequestRecord, StageInput } from "harness-hub";

/**
 * genai-bench 0.0.5 experiment folder → stage inputs, written only against harness-hub's public API.
 *
 * The folder holds experiment_metadata.json and one JSON per run (scenario × concurrency), named
 * `{scenario}_{task}_num_concurrency_{N}_time_{T}s.json`, with `aggregated_metrics` and
 * `individual_request_metrics`. A request's entry has its ttft, e2e_latency, token counts and
 * error, in the file's `_time_unit` (s, or ms for the latency fields only), but no clock times:
 * genai-bench keeps time.monotonic() differences only. So every request is placed at 0 and its
 * first token and end at ttft and e2e_latency: TTFT, E2E, TPOT and NTPOT come out exact; the
 * window throughputs are divided by is the run's `run_duration`; ITL is each request's mean gap.
 * Checked against the installed 0.0.5 source (metrics/aggregated_metrics_collector.py,
 * metrics/request_metrics_collector.py, time_units.py, cli/cli.py).
 */

export const VERSION = "0.0.5";
export const KNOWN_VERSIONS = [VERSION] as const;
const EXPECTED = `genai-bench ${KNOWN_VERSIONS.join("/")} output expected`;

/** The --experiment-folder-name the adapter passes, inside the run's native/. */
export const EXPERIMENT_FOLDER = "genai-bench";
const METADATA = "experiment_metadata.json";

type Failed = { kind: "failed"; reason: string };
const failed = (reason: string): Failed => ({ kind: "failed", reason });
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const isFailed = (x: unknown): x is Failed => isObj(x) && x["kind"] === "failed";

// The fields read.
type Num = number | null;
interface NativeRequest {
  ttft: Num;
  tpot: Num;
  e2e_latency: Num;
  num_input_tokens: Num;
  num_output_tokens: Num;
  error_code: number | null;
  error_message: string | null;
}
interface Stat {
  min: Num;
  max: Num;
  mean: Num;
  stddev: Num;
  p50: Num;
  p90: Num;
  p95: Num;
  p99: Num;
}
interface RunFile {
  aggregated_metrics: {
    scenario: string;
    num_concurrency: number;
    run_duration: number;
    num_requests: number;
    num_error_requests: number;
    stats: Partial<Record<"ttft" | "tpot" | "e2e_latency", Stat>>;
  };
  individual_request_metrics: NativeRequest[];
  _time_unit?: string;
}
interface Metadata {
  benchmark_version?: string;
  num_concurrency?: number[];
  traffic_scenario?: string[];
  metrics_time_unit?: string;
}

/** The first field of a run file that is not what the converter reads, or undefined. */
function runProblem(doc: unknown): string | undefined {
  if (!isObj(doc)) return "document root: must be an object";
  const a = doc["aggregated_metrics"];
  if (!isObj(a)) return `field "aggregated_metrics" missing`;
  if (typeof a["scenario"] !== "string") return `field "aggregated_metrics.scenario" must be a string`;
  for (const f of ["num_concurrency", "run_duration", "num_requests", "num_error_requests"]) if (!isNum(a[f])) return `field "aggregated_metrics.${f}" must be a number`;
  if (a["stats"] !== undefined && !isObj(a["stats"])) return `field "aggregated_metrics.stats" must be an object`;
  const list = doc["individual_request_metrics"];
  if (!Array.isArray(list)) return `field "individual_request_metrics" must be an array`;
  for (const [i, r] of list.entries()) {
    const at = (f: string) => `field "individual_request_metrics[${i}]${f}"`;
    if (!isObj(r)) return `${at("")} must be an object`;
    for (const f of ["ttft", "tpot", "e2e_latency", "num_input_tokens", "num_output_tokens"]) if (r[f] !== null && r[f] !== undefined && !isNum(r[f])) return `${at(`.${f}`)} must be a number or null`;
    if (r["error_code"] !== null && r["error_code"] !== undefined && !isNum(r["error_code"])) return `${at(".error_code")} must be a number or null`;
  }
  const unit = doc["_time_unit"];
  if (unit !== undefined && unit !== "s" && unit !== "ms") return `field "_time_unit" must be "s" or "ms"`;
  return undefined;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return failed(`${file}: cannot be read`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return failed(`${file}: not valid JSON (${(e as Error).message}; ${EXPECTED})`);
  }
}

const exists = async (p: string) => (await stat(p).catch(() => undefined)) !== undefined;
const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;

/** The experiment folder: nativePath, its genai-bench/, or its only subfolder with experiment_metadata.json. */
async function experimentFolder(nativePath: string): Promise<{ dir: string; only?: string } | Failed> {
  if (!(await exists(nativePath))) return failed(`${nativePath}: not found`);
  if (!(await isDir(nativePath))) return { dir: dirname(nativePath), only: nativePath };
  if (await exists(join(nativePath, METADATA))) return { dir: nativePath };
  if (await exists(join(nativePath, EXPERIMENT_FOLDER, METADATA))) return { dir: join(nativePath, EXPERIMENT_FOLDER) };
  const subs: string[] = [];
  for (const e of await readdir(nativePath, { withFileTypes: true })) {
    if (e.isDirectory() && (await exists(join(nativePath, e.name, METADATA)))) subs.push(join(nativePath, e.name));
  }
  if (subs.length === 1) return { dir: subs[0]! };
  if (subs.length > 1) return failed(`${nativePath}: several genai-bench experiment folders (${subs.map((s) => basename(s)).join(", ")}); pass one of them`);
  return failed(`${nativePath}: no ${METADATA} in it, in ${EXPERIMENT_FOLDER}/ or in a subfolder: genai-bench wrote no experiment (${EXPECTED})`);
}

function toRecord(r: NativeRequest, scale: number): RequestRecord {
  if (r.error_code !== null && r.error_code !== undefined) {
    const msg = r.error_message ? `: ${r.error_message.slice(0, 300)}` : "";
    const rec: RequestRecord = { status: "failed", start_s: 0, error: `${r.error_code}${msg}` };
    if (isNum(r.e2e_latency)) rec.end_s = r.e2e_latency * scale;
    return rec;
  }
  const rec: RequestRecord = { status: "ok", start_s: 0 };
  if (isNum(r.e2e_latency)) rec.end_s = r.e2e_latency * scale;
  if (isNum(r.ttft)) rec.first_token_s = r.ttft * scale;
  // genai-bench stops its clock when the stream ends, right after the last token's chunk (only the
  // usage chunk and [DONE] follow): the end is the best last-token time it has.
  if (rec.end_s !== undefined && rec.first_token_s !== undefined) rec.last_token_s = rec.end_s;
  if (isNum(r.num_input_tokens)) rec.input_tokens = r.num_input_tokens;
  if (isNum(r.num_output_tokens)) rec.output_tokens = r.num_output_tokens;
  return rec;
}

function natives(run: RunFile, file: string, toMs: number): StageInput["native"] {
  const out: NonNullable<StageInput["native"]> = {};
  const map = {
    ttft_ms: ["ttft", "genai-bench ttft: first content chunk - request start"],
    tpot_ms: ["tpot", "genai-bench tpot: (e2e - ttft)/(output tokens - 1)"],
    e2e_ms: ["e2e_latency", "genai-bench e2e_latency"],
  } as const;
  const okCount = run.individual_request_metrics.filter((r) => r.error_code === null || r.error_code === undefined).length;
  for (const [key, [field, note]] of Object.entries(map) as [keyof typeof map, (typeof map)[keyof typeof map]][]) {
    const s = run.aggregated_metrics.stats[field];
    if (!isObj(s)) continue;
    const v = (x: Num | undefined) => (isNum(x) ? x * toMs : null);
    const summary: NativeDistribution["summary"] = { count: okCount, mean: v(s.mean), stddev: v(s.stddev), min: v(s.min), max: v(s.max), p50: v(s.p50), p90: v(s.p90), p95: v(s.p95), p99: v(s.p99), p999: null };
    out[key] = { summary, native_field: `${basename(file)}: aggregated_metrics.stats.${field}`, note: `${note}; converted to ms; excludes warmup/cooldown requests if the run set ratios` };
  }
  return out;
}

export const genaiBenchConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath, ctx: ConvertContext): Promise<ConvertResult> {
    const found = await experimentFolder(nativePath);
    if (isFailed(found)) return found;
    const warnings: string[] = [];

    let metadata: Metadata = {};
    const metaFile = join(found.dir, METADATA);
    if (await exists(metaFile)) {
      const doc = await readJson(metaFile);
      if (isFailed(doc)) return doc;
      if (!isObj(doc)) return failed(`${metaFile}: document root must be an object (${EXPECTED})`);
      if (doc["num_concurrency"] !== undefined && !(Array.isArray(doc["num_concurrency"]) && doc["num_concurrency"].every(isNum))) return failed(`${metaFile}: field "num_concurrency" must be an array of numbers (${EXPECTED})`);
      if (doc["traffic_scenario"] !== undefined && !(Array.isArray(doc["traffic_scenario"]) && doc["traffic_scenario"].every((s) => typeof s === "string"))) return failed(`${metaFile}: field "traffic_scenario" must be an array of strings (${EXPECTED})`);
      metadata = doc as Metadata;
    } else {
      warnings.push(`${found.dir}: no ${METADATA}; stages ordered by scenario and concurrency`);
    }
    const version = (typeof metadata.benchmark_version === "string" ? metadata.benchmark_version : undefined) ?? ctx.harnessVersion ?? null;
    if (version === null) warnings.push(`genai-bench output does not say which version wrote it; the converter was checked against ${KNOWN_VERSIONS.join(", ")}`);
    else if (!(KNOWN_VERSIONS as readonly string[]).includes(version)) {
      warnings.push(`genai-bench output was written by version ${version}; the converter was checked against ${KNOWN_VERSIONS.join(", ")} only, so fields may have changed meaning`);
    }

    // Run files: every JSON with aggregated_metrics (its plots and the Excel summary are skipped).
    const names = found.only ? [basename(found.only)] : (await readdir(found.dir)).filter((n) => n.endsWith(".json") && n !== METADATA && !n.startsWith("debug_for_run_")).sort();
    const runs: { file: string; run: RunFile }[] = [];
    for (const name of names) {
      const file = join(found.dir, name);
      const doc = await readJson(file);
      if (isFailed(doc)) return doc;
      if (!isObj(doc) || !("aggregated_metrics" in doc)) continue;
      const problem = runProblem(doc);
      if (problem) return failed(`${file}: ${problem} (${EXPECTED})`);
      runs.push({ file, run: doc as unknown as RunFile });
    }
    if (runs.length === 0) return failed(`${found.dir}: no run results (*.json with aggregated_metrics): genai-bench finished no run (${EXPECTED})`);

    // Stages in the order genai-bench ran them: scenario by scenario, concurrency by concurrency.
    const scenarios = metadata.traffic_scenario ?? [...new Set(runs.map((r) => r.run.aggregated_metrics.scenario))];
    const levels = metadata.num_concurrency ?? [...new Set(runs.map((r) => r.run.aggregated_metrics.num_concurrency))].sort((a, b) => a - b);
    const planned = scenarios.flatMap((scenario) => levels.map((concurrency) => ({ scenario, concurrency })));
    const key = (s: string, c: number) => `${s}\u0000${c}`;
    const byKey = new Map(runs.map((r) => [key(r.run.aggregated_metrics.scenario, r.run.aggregated_metrics.num_concurrency), r]));
    const missing = planned.filter((p) => !byKey.has(key(p.scenario, p.concurrency)));
    if (missing.length > 0) warnings.push(`genai-bench wrote no results for ${missing.map((m) => `${m.scenario} at concurrency ${m.concurrency}`).join(", ")} (a run that finished no request is not saved)`);

    const stages: StageInput[] = [];
    for (const [index, p] of planned.entries()) {
      const r = byKey.get(key(p.scenario, p.concurrency));
      if (!r) continue;
      const { run, file } = r;
      const unit = run._time_unit ?? metadata.metrics_time_unit ?? "s";
      // The latency fields are in _time_unit; run_duration is always in seconds.
      const toS = unit === "ms" ? 1e-3 : 1;
      const records = run.individual_request_metrics.map((x) => toRecord(x, toS));
      const notes = [
        "genai-bench records no clock times: each request is placed at 0 with its first token at ttft and its end (and last token) at e2e_latency; throughputs are divided by genai-bench's run_duration",
      ];
      // genai-bench sets tpot to null when a request's tokens after the first came within 1 ms
      // (a client that fell behind and read them all at once) and leaves it out of its TPOT.
      const droppedTpot = run.individual_request_metrics.filter((x) => (x.error_code === null || x.error_code === undefined) && x.tpot === null && (x.num_output_tokens ?? 0) > 1).length;
      if (droppedTpot > 0) {
        notes.push(`${droppedTpot} requests got all tokens after the first within 1 ms (read late, at once); genai-bench leaves them out of its tpot, hub keeps them`);
      }
      const totals = run.aggregated_metrics;
      const failedCount = records.filter((x) => x.status === "failed").length;
      if (records.length !== totals.num_requests || failedCount !== totals.num_error_requests) {
        notes.push(`request counts differ from aggregated_metrics (num_requests ${totals.num_requests}, num_error_requests ${totals.num_error_requests}; per-request ${records.length}, ${failedCount})`);
      }
      const synchronous = ctx.profile?.load.type === "synchronous" && p.concurrency === 1;
      stages.push({
        index,
        load: synchronous ? { type: "synchronous" } : { type: "concurrent", concurrency: p.concurrency },
        records,
        window: { start_s: 0, end_s: totals.run_duration },
        native: natives(run, file, toS * 1000),
        recordSource: `genai-bench ${basename(file)}: individual_request_metrics (ttft, e2e_latency, num_input_tokens, num_output_tokens, error_code)`,
        notes,
      });
    }
    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
