import type { Cell, Comparison, CompareRow, CompareRun } from "../compare.ts";
import { LATENCY_METRICS, PERCENTILES } from "../compare.ts";

/** Text formatting shared by the human-readable formats, so table, Markdown and HTML agree. */

/** Milliseconds: two decimals below 1, one below 1000, none above (judged after rounding). */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  const a = Math.abs(x);
  return x.toFixed(a < 0.995 ? 2 : a < 999.95 ? 1 : 0);
}

export function num(x: number | null | undefined, digits: number): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  return x.toFixed(digits);
}

export function percent(rate: number | null | undefined): string {
  if (rate === null || rate === undefined || !Number.isFinite(rate)) return "-";
  return `${(rate * 100).toFixed(1)}%`;
}

/** `+4.1%`, `-12%`; `pp` for failure rate, whose change is in percentage points. */
export function delta(d: number | null | undefined, unit: "%" | "pp" = "%"): string {
  if (d === undefined) return "";
  if (d === null || !Number.isFinite(d)) return "n/a";
  const a = Math.abs(d);
  const s = a >= 100 ? a.toFixed(0) : a.toFixed(1);
  if (Number(s) === 0) return unit === "pp" ? "±0pp" : "±0%";
  return `${d < 0 ? "-" : "+"}${s}${unit === "pp" ? "pp" : "%"}`;
}

const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
/** Footnote marks as superscript digits: compact in a terminal and legible in Markdown. */
export function sup(n: number): string {
  return String(n)
    .split("")
    .map((d) => SUP[Number(d)])
    .join("");
}
export const marks = (notes: readonly number[] | undefined) => (notes && notes.length > 0 ? notes.map(sup).join(",") : "");

export interface TextColumn {
  header: string;
  /** The metric a run of consecutive columns belongs to. */
  group?: string;
  numeric: boolean;
  /** The value with its footnote marks. */
  value(row: CompareRow): string;
  /** The change against the baseline, for rows compared with one; undefined where none applies. */
  delta?(row: CompareRow): string | undefined;
}

const val = (c: Cell, fmt: (x: number | null) => string) => `${fmt(c.value)}${marks(c.notes)}`;
const dlt = (c: Cell, unit: "%" | "pp" = "%") => (c.delta === undefined ? undefined : delta(c.delta, unit));

export const runTag = (n: number) => `#${n}`;

/** The columns of the compare table, in the order the issue lists them. */
export function textColumns(): TextColumn[] {
  const cols: TextColumn[] = [
    { header: "run", numeric: false, value: (r) => runTag(r.run) },
    { header: "stage", numeric: true, value: (r) => `${r.stage}${marks(r.notes)}` },
    { header: "harness", numeric: false, value: (r) => r.harness },
    { header: "profile", numeric: false, value: (r) => r.profile },
    { header: "load", numeric: false, value: (r) => r.loadLabel },
    { header: "requests", numeric: true, value: (r) => val(r.requests.total, (x) => num(x, 0)), delta: (r) => dlt(r.requests.total) },
    { header: "failed", numeric: true, value: (r) => val(r.failureRate, percent), delta: (r) => dlt(r.failureRate, "pp") },
    { header: "req/s", numeric: true, value: (r) => val(r.requestsPerS, (x) => num(x, 2)), delta: (r) => dlt(r.requestsPerS) },
    { header: "out tok/s", numeric: true, value: (r) => val(r.outputTokensPerS, (x) => num(x, 1)), delta: (r) => dlt(r.outputTokensPerS) },
  ];
  for (const m of LATENCY_METRICS) {
    for (const p of PERCENTILES) {
      // The metric names its first column (`TTFT p50  p90  p99`): one header line, and a reader
      // (or a grep) finds "TTFT p50" as the old end-of-run table had it.
      cols.push({ header: p === "p50" ? `${m.label} p50` : p, group: m.label, numeric: true, value: (r) => val(r.latency[m.key][p], ms), delta: (r) => dlt(r.latency[m.key][p]) });
    }
  }
  return cols;
}

/** What a row was compared with: `vs #1 stage 0`, or why it was not. */
export function baselineNote(row: CompareRow, cmp: Comparison): string | undefined {
  if (row.baselineStage === undefined || cmp.baseline === null) return undefined;
  return row.baselineStage === null ? `vs ${runTag(cmp.baseline)}: no match` : `vs ${runTag(cmp.baseline)} stage ${row.baselineStage}`;
}

export function runLine(r: CompareRun): string {
  const parts = [
    `${r.harness}${r.harnessVersion ? ` ${r.harnessVersion}` : ""}`,
    r.profile,
    r.target ?? "target unknown",
    r.model ? `model ${r.model}` : "model unknown",
    r.path,
  ];
  return `${runTag(r.n)}  ${parts.join(" · ")}`;
}

export function title(cmp: Comparison): string {
  const n = cmp.runs.length;
  const base = cmp.baseline !== null ? ` · changes against ${runTag(cmp.baseline)} (failure rate in percentage points)` : "";
  return `${n === 1 ? "1 run" : `hub compare · ${n} runs`} · latencies in ms${base}`;
}
