import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ConvertContext, ConvertResult, Converter } from "../src/harness/contract.ts";
import { readNativeJson, versionWarning } from "../src/harness/native.ts";
import type { StageInput } from "../src/metrics/compute.ts";
import type { RequestRecord } from "../src/metrics/records.ts";
import type { LoadPoint } from "../src/metrics/schema.ts";
import schema from "./fmperf.schema.json" with { type: "json" };
import { maxOf } from "../src/metrics/stats.ts";

/**
 * fmperf 0.0.1 loadgen output → stage inputs. fmperf writes one record per streamed token (and
 * one per failure) and reports only means; hub regroups the records into requests by
 * (worker_idx, request_idx) and recomputes every metric from them. Field meanings were checked
 * against fmperf/loadgen/run.py, sweep.py, generate-input.py and fmperf/utils/Parsing.py at
 * fmperf-project/fmperf 8d85bc3d145c42577c980358b198eb10e3c7f6be:
 *
 * - timestamp: time.time_ns() when the chunk carrying the token arrived (several tokens of one
 *   chunk share it); duration_ms: ms since the previous record of the request, for response_idx
 *   0 since the request was sent. So send = timestamp₀ − duration_ms₀, and the token times are
 *   the timestamps of the ok records.
 * - ok false: the request failed (HTTP error, broken stream); fmperf writes one such record and
 *   moves on. exclude: the record arrived after DURATION + GRACE_PERIOD; fmperf drops those
 *   records from its statistics and counts their requests as excluded.
 * - Input lengths are not in the records: they come from the requests file (sample_idx indexes
 *   it), whose vLLM requests carry token-id prompts.
 */

export const KNOWN_VERSIONS = ["0.0.1"] as const;
const EXPECTED = `fmperf ${KNOWN_VERSIONS.join("/")} loadgen`;

interface NativeRecord {
  ok: boolean;
  error?: string;
  timestamp: number;
  exp_num_users: number;
  duration_ms: number;
  exclude: boolean;
  worker_idx: number;
  request_idx: number;
  sample_idx: number;
  response_idx: number;
  n_tokens: number;
}
interface RunFile {
  results: NativeRecord[];
}
interface NativeCase {
  config: { in_tokens: number; out_tokens: number };
  request: { prompt?: number[] | string };
}

const part = (name: keyof typeof schema.definitions) => ({ $ref: `#/definitions/${name}`, definitions: schema.definitions });
const SCHEMAS = { run: part("runFile"), sweep: part("sweepFile"), requests: part("requestsFile") };

type Kind = keyof typeof SCHEMAS;

/** What kind of fmperf file a parsed JSON document looks like, before it is validated. */
function classify(data: unknown): Kind | undefined {
  if (Array.isArray(data)) {
    const first = data[0] as Record<string, unknown> | undefined;
    if (first && typeof first === "object" && "config" in first && "request" in first) return "requests";
    if (first && typeof first === "object" && "response_idx" in first) return "sweep";
    return undefined;
  }
  if (data && typeof data === "object" && Array.isArray((data as { results?: unknown }).results)) return "run";
  return undefined;
}

/** The JSON files of a folder with the kind each looks like; files that are not JSON are skipped. */
async function scan(dir: string): Promise<{ file: string; kind: Kind }[]> {
  const out: { file: string; kind: Kind }[] = [];
  const names = (await readdir(dir)).filter((n) => n.endsWith(".json")).sort();
  for (const name of names) {
    const file = join(dir, name);
    try {
      const kind = classify(JSON.parse(await readFile(file, "utf8")));
      if (kind) out.push({ file, kind });
    } catch {
      // not JSON: not fmperf's
    }
  }
  return out;
}

type Found = { results: { file: string; kind: "run" | "sweep" }[]; requests?: string; notes: string[] } | { failed: string };

/** The results files to convert and the requests file that goes with them. */
async function locate(nativePath: string): Promise<Found> {
  const s = await stat(nativePath).catch(() => undefined);
  if (!s) return { failed: `${nativePath}: not found` };
  const dir = s.isDirectory() ? nativePath : dirname(nativePath);
  const files = await scan(dir);
  const requests = files.filter((f) => f.kind === "requests").map((f) => f.file);
  const notes: string[] = [];
  const pickRequests = () => (requests.length === 1 ? requests[0] : requests.find((f) => basename(f) === "requests.json"));

  if (!s.isDirectory()) {
    const kind = files.find((f) => f.file === nativePath)?.kind ?? classify(await readFile(nativePath, "utf8").then(JSON.parse).catch(() => undefined));
    if (kind === "requests") return { failed: `${nativePath}: this is fmperf's requests file (generate-input); convert the results file that fmperf.loadgen.run or sweep wrote` };
    if (kind === undefined) {
      // Let validation name what is wrong with it.
      return { results: [{ file: nativePath, kind: "run" }], ...(pickRequests() ? { requests: pickRequests()! } : {}), notes };
    }
    return { results: [{ file: nativePath, kind }], ...(pickRequests() ? { requests: pickRequests()! } : {}), notes };
  }

  const sweeps = files.filter((f): f is { file: string; kind: "sweep" } => f.kind === "sweep");
  const runs = files.filter((f): f is { file: string; kind: "run" } => f.kind === "run");
  if (sweeps.length === 0 && runs.length === 0) {
    return { failed: `${nativePath}: no fmperf results file (a JSON {"results": [...]} from fmperf.loadgen.run, or the record list sweep writes); ${EXPECTED} output expected` };
  }
  // sweep writes every run's records twice: result_sweep_u<N>.json per run and $RESULTS_ALL_FILENAME.
  if (sweeps.length > 0 && runs.length > 0) {
    notes.push(`read ${sweeps.map((f) => basename(f.file)).join(", ")} (fmperf sweep's list of all records); ${runs.map((f) => basename(f.file)).join(", ")} hold the same records per run and were not read again`);
  }
  return { results: sweeps.length > 0 ? sweeps : runs, ...(pickRequests() ? { requests: pickRequests()! } : {}), notes };
}

/** Input tokens of each request fmperf can send, by sample_idx. */
function inputLengths(cases: NativeCase[]): number[] {
  return cases.map((c) => (Array.isArray(c.request.prompt) ? c.request.prompt.length : c.config.in_tokens));
}

function loadPoint(users: number, ctx: ConvertContext): LoadPoint {
  if (users === 1 && ctx.profile?.load.type === "synchronous") return { type: "synchronous" };
  return { type: "concurrent", concurrency: users };
}

const seconds = (ns: number) => ns / 1e9;

/** One request from its records (one per token, or a failure). */
function toRecord(recs: NativeRecord[], inputs: number[] | undefined): { rec: RequestRecord; excluded: boolean } {
  recs.sort((a, b) => a.response_idx - b.response_idx);
  const first = recs[0]!;
  const last = recs[recs.length - 1]!;
  const ok = recs.filter((r) => r.ok);
  const fail = recs.find((r) => !r.ok);
  const excluded = recs.some((r) => r.exclude);
  const rec: RequestRecord = {
    status: fail ? "failed" : excluded ? "incomplete" : "ok",
    start_s: seconds(first.timestamp) - first.duration_ms / 1000,
    end_s: seconds(last.timestamp),
  };
  if (ok.length > 0 && ok[0]!.response_idx === 0) rec.first_token_s = seconds(ok[0]!.timestamp);
  if (ok.length > 0) {
    rec.last_token_s = seconds(ok[ok.length - 1]!.timestamp);
    rec.token_times_s = ok.map((r) => seconds(r.timestamp));
  }
  rec.output_tokens = ok.reduce((n, r) => n + r.n_tokens, 0);
  const input = inputs?.[first.sample_idx];
  if (input !== undefined) rec.input_tokens = input;
  if (fail?.error) rec.error = fail.error;
  return { rec, excluded };
}

interface Group {
  users: number;
  file: string;
  records: NativeRecord[];
}

function toStage(g: Group, inputs: number[] | undefined, ctx: ConvertContext): Omit<StageInput, "index"> & { firstSend: number } {
  const byRequest = new Map<string, NativeRecord[]>();
  for (const r of g.records) {
    const key = `${r.worker_idx}/${r.request_idx}`;
    const list = byRequest.get(key);
    if (list) list.push(r);
    else byRequest.set(key, [r]);
  }
  const records: RequestRecord[] = [];
  let excludedOk = 0;
  for (const recs of byRequest.values()) {
    const { rec, excluded } = toRecord(recs, inputs);
    if (excluded && rec.status === "incomplete") excludedOk++;
    records.push(rec);
  }
  records.sort((a, b) => a.start_s - b.start_s);
  const notes: string[] = [];
  if (excludedOk > 0) {
    notes.push(`${excludedOk} requests ran past DURATION + GRACE_PERIOD (fmperf's exclude) and are counted as incomplete: fmperf leaves them out of its statistics too`);
  }
  const fmperfFile = basename(g.file);
  return {
    load: loadPoint(g.users, ctx),
    records,
    recordSource: `fmperf ${fmperfFile} per-token records (timestamp, duration_ms, ok) grouped by (worker_idx, request_idx)`,
    notes,
    firstSend: records[0]?.start_s ?? Number.POSITIVE_INFINITY,
  };
}

export const fmperfConverter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  async convert(nativePath, ctx): Promise<ConvertResult> {
    const found = await locate(nativePath);
    if ("failed" in found) return { kind: "failed", reason: found.failed };
    const warnings: string[] = [];
    const version = ctx.harnessVersion ?? null;
    const vw = versionWarning("fmperf", KNOWN_VERSIONS, version);
    if (vw) warnings.push(vw);

    let inputs: number[] | undefined;
    if (found.requests) {
      const req = await readNativeJson<NativeCase[]>(found.requests, SCHEMAS.requests, { expected: `${EXPECTED} requests file` });
      if (req.kind === "failed") return req;
      inputs = inputLengths(req.data);
    } else {
      warnings.push(`no fmperf requests file (generate-input's REQUESTS_FILENAME) next to the results: input token counts and input throughput are unknown`);
    }

    const groups: Group[] = [];
    for (const { file, kind } of found.results) {
      const read =
        kind === "run"
          ? await readNativeJson<RunFile>(file, SCHEMAS.run, { expected: EXPECTED })
          : await readNativeJson<NativeRecord[]>(file, SCHEMAS.sweep, { expected: EXPECTED });
      if (read.kind === "failed") return read;
      const records = Array.isArray(read.data) ? read.data : read.data.results;
      // One stage per number of users in the file: a run has one, a sweep's list one per run.
      const byUsers = new Map<number, NativeRecord[]>();
      for (const r of records) {
        const list = byUsers.get(r.exp_num_users);
        if (list) list.push(r);
        else byUsers.set(r.exp_num_users, [r]);
      }
      for (const [users, recs] of byUsers) groups.push({ users, file, records: recs });
    }
    if (groups.every((g) => g.records.length === 0)) {
      return { kind: "failed", reason: `${found.results.map((f) => f.file).join(", ")}: no records: fmperf finished no request (${EXPECTED} output expected)` };
    }

    if (inputs) {
      const max = maxOf(groups.flatMap((g) => g.records.map((r) => r.sample_idx)));
      if (max >= inputs.length) {
        return { kind: "failed", reason: `${found.requests}: has ${inputs.length} requests but the results use sample_idx ${max}: not the requests file of this run` };
      }
    }

    // Stages in the order they ran.
    const stages = groups
      .filter((g) => g.records.length > 0)
      .map((g) => toStage(g, inputs, ctx))
      .sort((a, b) => a.firstSend - b.firstSend)
      .map(({ firstSend: _, ...s }, index): StageInput => ({ ...s, index, notes: [...(s.notes ?? []), ...(index === 0 ? found.notes : [])] }));
    return { kind: "ok", harnessVersion: version, stages, warnings };
  },
};
