import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ConvertContext, ConvertResult, Converter, RequestRecord, StageInput } from "harness-hub";

/**
 * The converter: __NAME__'s own output → hub's stage inputs. hub recomputes every metric from the
 * per-request records you return, with its own definitions (docs/metrics.md in harness-hub), so
 * extract times and token counts, not the tool's aggregates.
 *
 * The output format below is an imaginary example: one results.json with the tool's version and
 * one entry per request, times in epoch seconds. Replace it with what your tool really writes, and
 * record a real run into fixtures/<version>/ (see the README there).
 */

export const VERSION = "0.1.0";
export const KNOWN_VERSIONS = [VERSION] as const;
export const RESULTS_FILE = "results.json";
const EXPECTED = `__NAME__ ${KNOWN_VERSIONS.join("/")} output expected`;

/** The fields this converter reads; checked before they are used. */
interface NativeRequest {
  start: number;
  first_token: number | null;
  end: number;
  token_times?: number[];
  prompt_tokens: number;
  completion_tokens: number;
  error: string | null;
}
interface NativeResults {
  version: string;
  concurrency: number;
  requests: NativeRequest[];
}

const failed = (reason: string): ConvertResult => ({ kind: "failed", reason });

/** The first field that does not have the type the converter needs, as "requests[3].start", or undefined. */
function shapeError(doc: unknown): string | undefined {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
  if (!isObj(doc)) return "document root: must be an object";
  if (typeof doc["version"] !== "string") return `field "version": must be a string`;
  if (!num(doc["concurrency"])) return `field "concurrency": must be a number`;
  if (!Array.isArray(doc["requests"])) return `field "requests": must be an array`;
  for (const [i, r] of (doc["requests"] as unknown[]).entries()) {
    const at = (f: string) => `field "requests[${i}].${f}"`;
    if (!isObj(r)) return `field "requests[${i}]": must be an object`;
    for (const f of ["start", "end", "prompt_tokens", "completion_tokens"]) if (!num(r[f])) return `${at(f)}: must be a number`;
    if (r["first_token"] !== null && !num(r["first_token"])) return `${at("first_token")}: must be a number or null`;
    if (r["token_times"] !== undefined && !(Array.isArray(r["token_times"]) && r["token_times"].every(num))) return `${at("token_times")}: must be an array of numbers`;
    if (r["error"] !== null && typeof r["error"] !== "string") return `${at("error")}: must be a string or null`;
  }
  return undefined;
}

function toRecord(r: NativeRequest): RequestRecord {
  if (r.error !== null) return { status: "failed", start_s: r.start, end_s: r.end, error: r.error };
  const rec: RequestRecord = { status: "ok", start_s: r.start, end_s: r.end, input_tokens: r.prompt_tokens, output_tokens: r.completion_tokens };
  if (r.first_token !== null) rec.first_token_s = r.first_token;
  // Every token's arrival time gives hub the exact inter-token latency distribution; with only
  // first and last token times hub approximates it (and says so in the stage's notes).
  if (r.token_times && r.token_times.length > 0) {
    rec.token_times_s = r.token_times;
    rec.last_token_s = r.token_times[r.token_times.length - 1]!;
  }
  return rec;
}

export const converter: Converter = {
  knownVersions: KNOWN_VERSIONS,
  // nativePath is the run's native/ folder (or whatever a user passes to `hub convert`): a
  // folder or the file itself. Never throw: explain a failure in one line naming file and field.
  async convert(nativePath: string, ctx: ConvertContext): Promise<ConvertResult> {
    const s = await stat(nativePath).catch(() => undefined);
    if (!s) return failed(`${nativePath}: not found`);
    const file = s.isDirectory() ? join(nativePath, RESULTS_FILE) : nativePath;
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) return failed(`${file}: not found (__NAME__ wrote no ${RESULTS_FILE}; ${EXPECTED})`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      return failed(`${file}: not valid JSON (${(e as Error).message}; ${EXPECTED})`);
    }
    const bad = shapeError(doc);
    if (bad) return failed(`${file}: ${bad} (${EXPECTED})`);
    const results = doc as NativeResults;

    const warnings: string[] = [];
    // The version in the output, else the one hub ran (ctx.harnessVersion), else unknown.
    const version = results.version || ctx.harnessVersion || null;
    if (version === null) warnings.push(`__NAME__ output does not say which version wrote it; the converter was checked against ${KNOWN_VERSIONS.join(", ")}`);
    else if (!(KNOWN_VERSIONS as readonly string[]).includes(version)) {
      warnings.push(`__NAME__ output was written by version ${version}; the converter was checked against ${KNOWN_VERSIONS.join(", ")} only, so fields may have changed meaning`);
    }

    const stage: StageInput = {
      index: 0,
      load: { type: "concurrent", concurrency: results.concurrency },
      records: results.requests.map(toRecord),
      // Names the native fields the records came from: it is written next to every metric.
      recordSource: `__NAME__ ${RESULTS_FILE} requests (start, first_token, token_times, end, prompt_tokens, completion_tokens, error)`,
      notes: [],
    };
    return { kind: "ok", harnessVersion: version, stages: [stage], warnings };
  },
};
