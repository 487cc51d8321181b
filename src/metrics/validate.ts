import type { RequestRecord } from "./records.ts";

/**
 * What a per-request record must satisfy before any statistic is computed from it, whatever
 * harness wrote it: finite times in a plausible range, in order (send ≤ first token ≤ last token
 * ≤ end, every token time between), and token counts that are non-negative integers of a size a
 * model can produce. A record that breaks a rule is dropped and counted, never turned into a
 * negative latency or an absurd throughput.
 */

/** Epoch seconds reach 1e11 in the year 5138; monotonic clocks are far smaller. */
export const MAX_TIME_S = 1e11;
/** No model has a context of ten million tokens. */
export const MAX_TOKENS = 10_000_000;
/**
 * Clocks are floats: epoch seconds near 1.8e9 have a resolution of 0.24 µs, and a harness that
 * adds durations from another clock to them (start + ttft) lands a few of those off its own end
 * stamp. Disorder up to this much is rounding: the record is kept with its times put in order.
 */
export const EPS_S = 1e-5;

export interface RecordCheck {
  records: RequestRecord[];
  /** How many records were dropped, by the first rule each broke. */
  dropped: Map<string, number>;
  /** The first dropped record of each rule, as `record i: field = value (why)`. */
  examples: Map<string, string>;
}

const isTime = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && Math.abs(v) <= MAX_TIME_S;
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS;

/** The first rule a record breaks, as [rule, field, value], or undefined when it is sound. */
export function recordProblem(r: RequestRecord): [rule: string, field: string, value: unknown] | undefined {
  if (r.status !== "ok" && r.status !== "failed" && r.status !== "incomplete") return ["unknown status", "status", r.status];
  if (!isTime(r.start_s)) return ["send time not a finite time", "start_s", r.start_s];
  for (const f of ["end_s", "first_token_s", "last_token_s"] as const) {
    if (r[f] !== undefined && !isTime(r[f])) return ["time not finite or out of range", f, r[f]];
  }
  for (const f of ["input_tokens", "output_tokens"] as const) {
    if (r[f] !== undefined && !isCount(r[f])) return [`token count not an integer in 0..${MAX_TOKENS}`, f, r[f]];
  }
  // Order: each present time no earlier than the one before it.
  let prev = r.start_s;
  let prevField = "start_s";
  for (const f of ["first_token_s", "last_token_s", "end_s"] as const) {
    const t = r[f];
    if (t === undefined) continue;
    if (t < prev - EPS_S) return [`${f} before ${prevField}`, f, t];
    prev = t;
    prevField = f;
  }
  const times = r.token_times_s;
  if (times !== undefined) {
    let last = r.start_s;
    for (let i = 0; i < times.length; i++) {
      const t = times[i];
      if (!isTime(t)) return ["token time not finite or out of range", `token_times_s[${i}]`, t];
      if (t < last - EPS_S) return ["token times out of order or before the send", `token_times_s[${i}]`, t];
      last = t;
    }
    if (r.end_s !== undefined && times.length > 0 && last > r.end_s + EPS_S) return ["token time after the end", `token_times_s[${times.length - 1}]`, last];
  }
  return undefined;
}

export function checkRecords(records: readonly RequestRecord[]): RecordCheck {
  const kept: RequestRecord[] = [];
  const dropped = new Map<string, number>();
  const examples = new Map<string, string>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const problem = recordProblem(r);
    if (problem === undefined) {
      kept.push(inOrder(r));
      continue;
    }
    const [rule, field, value] = problem;
    dropped.set(rule, (dropped.get(rule) ?? 0) + 1);
    if (!examples.has(rule)) examples.set(rule, `record ${i}: ${field} = ${JSON.stringify(value) ?? String(value)}`);
  }
  return { records: kept, dropped, examples };
}

/**
 * The record with times that are out of order by rounding (less than EPS_S) moved onto their
 * predecessor, so no latency comes out a few µs negative; the record itself when already in order.
 */
function inOrder(r: RequestRecord): RequestRecord {
  const chain = [r.start_s, r.first_token_s, r.last_token_s, r.end_s];
  let prev = -Infinity;
  let sorted = true;
  for (const t of chain) {
    if (t === undefined) continue;
    if (t < prev) sorted = false;
    prev = Math.max(prev, t);
  }
  const times = r.token_times_s;
  if (times) for (let i = 1; i < times.length && sorted; i++) if (times[i]! < times[i - 1]!) sorted = false;
  if (times && times.length > 0 && (times[0]! < r.start_s || (r.end_s !== undefined && times[times.length - 1]! > r.end_s))) sorted = false;
  if (sorted) return r;
  const out: RequestRecord = { ...r };
  let at = r.start_s;
  for (const f of ["first_token_s", "last_token_s", "end_s"] as const) {
    const t = out[f];
    if (t === undefined) continue;
    at = Math.max(at, t);
    out[f] = at;
  }
  if (times) {
    let t0 = r.start_s;
    const fixed = times.map((t) => (t0 = Math.max(t0, t)));
    // The end is the last event: token times past it by rounding move back onto it.
    out.token_times_s = out.end_s !== undefined ? fixed.map((t) => Math.min(t, out.end_s!)) : fixed;
  }
  return out;
}

/** One line per broken rule: how many records were dropped and the first of them. */
export function describeDropped(check: RecordCheck, total: number): string[] {
  return [...check.dropped].map(([rule, n]) => `dropped ${n} of ${total} records: ${rule} (first: ${check.examples.get(rule)})`);
}
