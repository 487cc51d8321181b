import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Ajv } from "ajv";
import { parse as parseYaml } from "yaml";
import type { ConvertContext, ConvertResult, Converter } from "../src/harness/contract.ts";
import { fieldPath, readNativeJson, versionWarning } from "../src/harness/native.ts";
import type { NativeDistribution, StageInput } from "../src/metrics/compute.ts";
import type { RequestRecord } from "../src/metrics/records.ts";
import type { LoadPoint } from "../src/metrics/schema.ts";
import schema from "./inference-perf.schema.json" with { type: "json" };
import { maxOf } from "../src/metrics/stats.ts";

/**
 * inference-perf 0.7.0 report folder → stage inputs. Metrics are recomputed from
 * per_request_lifecycle_metrics.json; the stage files give each stage's request count and load
 * point and, when the per-request file is missing, inference-perf's own aggregates. Field meanings
 * were checked against the installed 0.7.0 source (reportgen/base.py, apis/streaming_parser.py).
 *
 * Per-request entries carry no stage id. Stages run one after another (each waits for all its
 * requests before the next starts), so entries sorted by start time are cut into stages by the
 * stage files' load_summary.count, and the cut is checked to fall between stages in time.
 *
 * Times are time.perf_counter() seconds, not epoch: fine for every duration hub computes.
 */

export const KNOWN_VERSIONS = ["0.7.0"] as const;
const EXPECTED = `inference-perf ${KNOWN_VERSIONS.join("/")}`;

/** The folder the adapter points storage.local_storage.path at, inside the run's native/. */
export const REPORTS_DIR = "reports";
/**
 * inference-perf records its version nowhere in its output, so the adapter writes it as the first
 * line of the config it generates (native/config.yml): the version the config was written for and
 * hub's venv pins.
 */
export const VERSION_COMMENT = "# harness-hub: config for inference-perf";
const HUB_CONFIG = "config.yml";

const PER_REQUEST = "per_request_lifecycle_metrics.json";
const STAGE_FILE = /^stage_(\d+)_lifecycle_metrics\.json$/;
const RESOLVED_CONFIG = "config.yaml";

// The subset of the native documents the schema guarantees (converters/inference-perf.schema.json).
type Dist = { mean: number; min: number; max: number; median?: number; p90?: number; p95?: number; p99?: number; "p99.9"?: number } | null;
interface NativeRequest {
  start_time: number;
  end_time: number;
  info: {
    request_metrics: { text: { input_tokens: number } };
    response_metrics: { output_tokens: number; chunk_times?: number[]; server_usage?: { completion_tokens?: number } | null } | null;
  };
  error: { error_type: string; error_msg: string } | null;
}
interface StageFile {
  benchmark_time_seconds: number;
  load_summary: { count: number; requested_rate?: number; concurrency?: number };
  successes: {
    count: number;
    latency: Record<"request_latency" | "normalized_time_per_output_token" | "time_per_output_token" | "time_to_first_token" | "inter_token_latency", Dist>;
    output_tokens?: { total?: number };
  };
  failures: { count: number };
}
interface ResolvedConfig {
  load: { type: string; stages: { rate?: number | null; concurrency_level?: number | null }[] };
}

const part = (name: keyof typeof schema.definitions) => ({ $ref: `#/definitions/${name}`, definitions: schema.definitions });
const PER_REQUEST_SCHEMA = part("perRequestFile");
const STAGE_SCHEMA = part("stageFile");
const exp = { expected: EXPECTED };

type Failed = { kind: "failed"; reason: string };
const failed = (reason: string): Failed => ({ kind: "failed", reason });

const isFile = async (p: string) => (await stat(p).catch(() => undefined))?.isFile() ?? false;
const isDir = async (p: string) => (await stat(p).catch(() => undefined))?.isDirectory() ?? false;

async function holdsReports(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.some((n) => n === PER_REQUEST || STAGE_FILE.test(n));
}

/** The storage folder: nativePath itself, its reports/, or its only subfolder holding reports. */
async function findReports(nativePath: string): Promise<string | Failed> {
  if (await isFile(nativePath)) return dirname(nativePath);
  if (!(await isDir(nativePath))) return failed(`${nativePath}: not found`);
  if (await holdsReports(nativePath)) return nativePath;
  if (await holdsReports(join(nativePath, REPORTS_DIR))) return join(nativePath, REPORTS_DIR);
  const subdirs = (await readdir(nativePath, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => join(nativePath, d.name));
  const found: string[] = [];
  for (const d of subdirs) if (await holdsReports(d)) found.push(d);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) return failed(`${nativePath}: several inference-perf report folders (${found.map((f) => basename(f)).join(", ")}); pass one of them`);
  return failed(`${nativePath}: no inference-perf reports (${PER_REQUEST} or stage_N_lifecycle_metrics.json) in it or in a subfolder; the run wrote none (${EXPECTED} output expected)`);
}

/** The version in the adapter's config header, looked for beside the reports folder. */
async function hubConfigVersion(reports: string): Promise<string | null> {
  for (const dir of [reports, dirname(reports)]) {
    const text = await readFile(join(dir, HUB_CONFIG), "utf8").catch(() => undefined);
    const line = text?.split("\n", 1)[0];
    if (line?.startsWith(VERSION_COMMENT)) return line.slice(VERSION_COMMENT.length).trim() || null;
  }
  return null;
}

// YAML documents are not covered by readNativeJson; the same ajv check, done here.
const ajv = new Ajv({ allErrors: false, strict: false });
const validateConfig = ajv.compile<ResolvedConfig>(part("configFile"));

/** inference-perf's resolved config.yaml, for the load type and stage list; optional. */
async function readResolvedConfig(reports: string): Promise<{ config?: ResolvedConfig; warning?: string }> {
  const file = join(reports, RESOLVED_CONFIG);
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) return {};
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return { warning: `${file}: not valid YAML (${(e as Error).message}); load types taken from the stage files` };
  }
  if (!validateConfig(doc)) {
    const e = validateConfig.errors?.[0];
    const what = e?.keyword === "required" ? `field "${fieldPath(e.instancePath, String(e.params["missingProperty"]))}" missing` : `field "${fieldPath(e?.instancePath ?? "")}" ${e?.message ?? "is invalid"}`;
    return { warning: `${file}: ${what}; load types taken from the stage files` };
  }
  return { config: doc };
}

function loadPoint(i: number, stage: StageFile | undefined, config: ResolvedConfig | undefined, ctx: ConvertContext, warnings: string[]): LoadPoint {
  const cs = config?.load.stages[i];
  const concurrency = stage?.load_summary.concurrency ?? cs?.concurrency_level ?? undefined;
  const profileType = ctx.profile?.load.type;
  if (config?.load.type === "concurrent" || (config === undefined && concurrency !== undefined)) {
    // The adapter runs hub's synchronous load as a concurrent stage of one slot.
    if (profileType === "synchronous" && concurrency === 1) return { type: "synchronous" };
    return concurrency !== undefined ? { type: "concurrent", concurrency } : { type: "concurrent" };
  }
  const rate = stage?.load_summary.requested_rate ?? cs?.rate ?? undefined;
  let type: "constant" | "poisson";
  if (config?.load.type === "constant" || config?.load.type === "poisson") type = config.load.type;
  else if (profileType === "constant" || profileType === "poisson") type = profileType;
  else {
    type = "constant";
    if (i === 0) warnings.push(`no ${RESOLVED_CONFIG} or profile says whether arrivals were constant or Poisson; reported as constant`);
  }
  return rate !== undefined && rate > 0 ? { type, rate } : { type };
}

function toRecord(e: NativeRequest): { record: RequestRecord; mismatch: boolean } {
  const record: RequestRecord = { status: e.error ? "failed" : "ok", start_s: e.start_time, end_s: e.end_time };
  if (e.error) {
    record.error = `${e.error.error_type}: ${e.error.error_msg}`;
    return { record, mismatch: false };
  }
  record.input_tokens = e.info.request_metrics.text.input_tokens;
  const rm = e.info.response_metrics;
  if (!rm) return { record, mismatch: false };
  // Chunk arrival times of content-bearing chunks (hub's ITL is chunk gaps). inference-perf's own
  // output_token_times repeat a chunk's time once per re-tokenized token.
  const times = rm.chunk_times ?? [];
  if (times.length > 0) {
    record.first_token_s = times[0]!;
    record.last_token_s = times[times.length - 1]!;
    record.token_times_s = times;
  }
  // The server's count is exact; inference-perf's re-tokenizes the whole output text.
  const server = rm.server_usage?.completion_tokens;
  record.output_tokens = server ?? rm.output_tokens;
  return { record, mismatch: server !== undefined && server !== rm.output_tokens };
}

const LATENCY = {
  ttft_ms: ["time_to_first_token", "inference-perf: first token - request start; needs at least 2 token times"],
  tpot_ms: ["time_per_output_token", "inference-perf: (last token - first token)/(n - 1) with n its re-tokenized output count; hub uses end, not last token"],
  itl_ms: ["inter_token_latency", "inference-perf: every gap between re-tokenized tokens, pooled; a chunk of k tokens adds k - 1 zero gaps"],
  ntpot_ms: ["normalized_time_per_output_token", "inference-perf: e2e / re-tokenized output count"],
  e2e_ms: ["request_latency", "inference-perf request_latency"],
} as const;

function natives(stage: StageFile, file: string): StageInput["native"] {
  const out: StageInput["native"] = {};
  const ms = (v: number | undefined) => (v === undefined ? null : v * 1000);
  for (const [key, [field, note]] of Object.entries(LATENCY) as [keyof typeof LATENCY, (typeof LATENCY)[keyof typeof LATENCY]][]) {
    const d = stage.successes.latency[field];
    if (!d) continue;
    // inference-perf reports no sample count; for ITL it is at most output tokens - requests.
    const total = stage.successes.output_tokens?.total;
    const count = key === "itl_ms" ? (total !== undefined ? Math.max(0, Math.round(total) - stage.successes.count) : 0) : stage.successes.count;
    const summary: NativeDistribution["summary"] = { count, mean: ms(d.mean), stddev: null, min: ms(d.min), max: ms(d.max), p50: ms(d.median), p90: ms(d.p90), p95: ms(d.p95), p99: ms(d.p99), p999: ms(d["p99.9"]) };
    out[key] = { summary, native_field: `${basename(file)}: successes.latency.${field}`, note: `${note}; seconds converted to ms; no stddev reported${key === "itl_ms" ? "; count estimated as output tokens - requests" : ""}` };
  }
  return out;
}

/** Without per-request data: status-only records so counts and requests/s stay right. */
function countOnlyRecords(stage: StageFile): RequestRecord[] {
  const ok = Array.from({ length: stage.successes.count }, (): RequestRecord => ({ status: "ok", start_s: 0 }));
  const bad = Array.from({ length: stage.failures.count }, (): RequestRecord => ({ status: "failed", start_s: 0 }));
  return [...ok, ...bad];
}

export const inferencePerfConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath, ctx): Promise<ConvertResult> {
    const reports = await findReports(nativePath);
    if (typeof reports !== "string") return reports;
    const warnings: string[] = [];

    // The version hub ran, else the one the config header names (outputs converted on their own).
    const version = ctx.harnessVersion ?? (await hubConfigVersion(reports));
    const vw = versionWarning("inference-perf", KNOWN_VERSIONS, version);
    if (vw) warnings.push(vw);

    const { config, warning } = await readResolvedConfig(reports);
    if (warning) warnings.push(warning);

    // Stage files, by index.
    const stageFiles = new Map<number, { file: string; data: StageFile }>();
    for (const name of await readdir(reports)) {
      const m = STAGE_FILE.exec(name);
      if (!m) continue;
      const read = await readNativeJson<StageFile>(join(reports, name), STAGE_SCHEMA, exp);
      if (read.kind === "failed") return read;
      stageFiles.set(Number(m[1]), { file: read.file, data: read.data });
    }
    const indexes = config ? config.load.stages.map((_, i) => i) : [...stageFiles.keys()].sort((a, b) => a - b);

    let perRequest: NativeRequest[] | undefined;
    const perRequestFile = join(reports, PER_REQUEST);
    if (await isFile(perRequestFile)) {
      const read = await readNativeJson<NativeRequest[]>(perRequestFile, PER_REQUEST_SCHEMA, exp);
      if (read.kind === "failed") return read;
      perRequest = read.data;
    }
    if (!perRequest && stageFiles.size === 0) return failed(`${reports}: neither ${PER_REQUEST} nor any stage_N_lifecycle_metrics.json (${EXPECTED} output expected)`);
    if (indexes.length === 0) return failed(`${reports}: inference-perf ran no stage (${EXPECTED} output expected)`);

    // Cut the per-request entries into stages by each stage file's count.
    let slices: NativeRequest[][] | undefined;
    if (perRequest) {
      const sorted = [...perRequest].sort((a, b) => a.start_time - b.start_time);
      const counts = indexes.map((i) => stageFiles.get(i)?.data.load_summary.count ?? 0);
      const sum = counts.reduce((a, b) => a + b, 0);
      if (indexes.length === 1) {
        slices = [sorted];
      } else if (sum === sorted.length) {
        slices = [];
        let at = 0;
        for (const c of counts) {
          slices.push(sorted.slice(at, at + c));
          at += c;
        }
      } else {
        return failed(
          `${perRequestFile}: ${sorted.length} requests, but the stage files count ${sum} (${counts.join(" + ")}); ` +
            `cannot tell which stage each request belongs to (${EXPECTED} output expected)`,
        );
      }
      for (let k = 1; k < slices.length; k++) {
        const prev = slices[k - 1]!;
        const next = slices[k]!;
        if (prev.length === 0 || next.length === 0) continue;
        const lastEnd = maxOf(prev.map((e) => e.end_time));
        if (lastEnd > next[0]!.start_time) warnings.push(`${PER_REQUEST}: a request of stage ${indexes[k - 1]} ended after stage ${indexes[k]} began; requests were assigned to stages by start time and the stage files' counts`);
      }
    } else {
      warnings.push(`${reports}: no ${PER_REQUEST}; request counts and requests/s come from the stage files, latencies are inference-perf's own aggregates, token counts are unavailable`);
    }

    const stages: StageInput[] = indexes.map((i, k) => {
      const sf = stageFiles.get(i);
      const notes: string[] = [];
      let records: RequestRecord[];
      let window: StageInput["window"];
      if (slices) {
        let mismatches = 0;
        records = slices[k]!.map((e) => {
          const r = toRecord(e);
          if (r.mismatch) mismatches++;
          return r.record;
        });
        if (mismatches > 0) {
          notes.push(`${mismatches} of ${records.length} requests: inference-perf's re-tokenized output count differs from the server's usage.completion_tokens; hub used the server's`);
        }
        if (sf && (sf.data.successes.count !== records.filter((r) => r.status === "ok").length || sf.data.failures.count !== records.filter((r) => r.status === "failed").length)) {
          notes.push(`request counts differ from ${basename(sf.file)} (successes/failures ${sf.data.successes.count}/${sf.data.failures.count})`);
        }
      } else {
        records = sf ? countOnlyRecords(sf.data) : [];
        if (sf) window = { start_s: 0, end_s: sf.data.benchmark_time_seconds };
      }
      if (!sf && records.length === 0) notes.push(`inference-perf wrote no stage_${i}_lifecycle_metrics.json: the stage finished no request`);
      return {
        index: i,
        load: loadPoint(i, sf?.data, config, ctx, warnings),
        records,
        ...(window ? { window } : {}),
        ...(sf ? { native: natives(sf.data, sf.file) } : {}),
        recordSource: slices ? `inference-perf ${PER_REQUEST} (start_time, end_time, chunk_times, usage.completion_tokens, input_tokens, error)` : `inference-perf stage_${i}_lifecycle_metrics.json (counts only)`,
        notes,
      };
    });

    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
