import { resolve } from "node:path";
import { UserError } from "../errors.ts";
import type { Distribution, LatencyKey, LoadPoint, Provenance, Stage } from "../metrics/schema.ts";
import type { LoadedRun } from "./load.ts";

/**
 * The harness-neutral comparison every format renders: rows are run × stage, values carry their
 * provenance as footnote numbers, and baseline deltas are computed once here so the formats
 * cannot disagree about them.
 */

export const LATENCY_METRICS: readonly { key: LatencyKey; label: string }[] = [
  { key: "ttft_ms", label: "TTFT" },
  { key: "tpot_ms", label: "TPOT" },
  { key: "itl_ms", label: "ITL" },
  { key: "ntpot_ms", label: "NTPOT" },
  { key: "e2e_ms", label: "E2E" },
];
export const PERCENTILES = ["p50", "p90", "p99"] as const;
export type Percentile = (typeof PERCENTILES)[number];

export interface Cell {
  value: number | null;
  /** Change against the baseline: percent, or percentage points for failure rate. */
  delta?: number | null;
  /** Footnote numbers explaining where the value came from. */
  notes?: number[];
}

export interface CompareRun {
  /** 1-based, the `#n` the formats show. */
  n: number;
  id: string;
  path: string;
  harness: string;
  harnessVersion: string | null;
  profile: string;
  /** "hub simulator" when hub started its own; else the target URL, or null. */
  target: string | null;
  model: string | null;
  stages: number;
}

export interface CompareRow {
  run: number;
  stage: number;
  harness: string;
  profile: string;
  load: LoadPoint;
  loadLabel: string;
  requests: { total: Cell; successful: number; failed: number; incomplete: number };
  failureRate: Cell;
  requestsPerS: Cell;
  outputTokensPerS: Cell;
  latency: Record<LatencyKey, Record<Percentile, Cell>>;
  /** Where each latency came from, as metrics.json says; null when there were no samples. */
  provenance: Record<LatencyKey, Provenance | null>;
  /** Footnotes for the whole row (the stage's own notes). */
  notes: number[];
  /** The stage's notes as metrics.json has them (footnotes merge similar ones). */
  stageNotes: string[];
  /** For rows of other runs under --baseline: the baseline stage compared against, or null. */
  baselineStage?: number | null;
}

export interface Footnote {
  n: number;
  text: string;
}

export interface Comparison {
  runs: CompareRun[];
  rows: CompareRow[];
  /** Runs of different profiles, targets or models: each warning names the difference. */
  warnings: string[];
  footnotes: Footnote[];
  /** The baseline's run number, or null. */
  baseline: number | null;
}

/** `concurrent c=4`, `poisson 2/s`, `synchronous`. */
export function loadLabel(load: LoadPoint): string {
  if (load.concurrency !== undefined) return `${load.type} c=${load.concurrency}`;
  if (load.rate !== undefined) return `${load.type} ${load.rate}/s`;
  return load.type;
}

const sameLoad = (a: LoadPoint, b: LoadPoint) => a.type === b.type && a.concurrency === b.concurrency && a.rate === b.rate;

function pct(value: number | null, base: number | null | undefined): number | null {
  if (value === null || base === null || base === undefined || base === 0) return null;
  return ((value - base) / Math.abs(base)) * 100;
}

function targetOf(run: LoadedRun): string | null {
  if (run.runRecord?.target_is_simulator) return "hub simulator";
  return run.metrics.run.target;
}

/** Finds the baseline among the runs: by number, id, or path as given or resolved. */
function findBaseline(runs: readonly LoadedRun[], ref: string): number {
  const byNumber = /^#?(\d+)$/.exec(ref);
  if (byNumber) {
    const n = Number(byNumber[1]);
    if (n >= 1 && n <= runs.length) return n - 1;
  }
  const abs = resolve(ref);
  const i = runs.findIndex(
    (r) => r.metrics.run.id === ref || r.path === ref || resolve(r.path) === abs || (r.dir !== null && resolve(r.dir) === abs),
  );
  if (i < 0) {
    throw new UserError(
      `--baseline ${ref} is none of the runs compared; give a run number (#1…#${runs.length}), a run id or a path of one of them, or a run directory to add`,
    );
  }
  return i;
}

/**
 * Resolves --baseline (a `#n`/`n` run number, a run id, or a path) against the runs; a path to
 * a run that is not among them is loaded and put first.
 */
export function placeBaseline(runs: LoadedRun[], ref: string | undefined, load: (p: string) => LoadedRun[]): { runs: LoadedRun[]; baseline: number | null } {
  if (ref === undefined) return { runs, baseline: null };
  try {
    return { runs, baseline: findBaseline(runs, ref) };
  } catch (e) {
    const extra = (() => {
      try {
        return load(ref);
      } catch {
        return null;
      }
    })();
    if (!extra || extra.length !== 1) throw e;
    return { runs: [...extra, ...runs], baseline: 0 };
  }
}

const NUMBER = /\d+(?:\.\d+)?/g;

/**
 * Footnotes, one per distinct reason. Notes that differ only in numbers (a stage index, a
 * request count) share one footnote whose differing numbers read `#`.
 */
class Notes {
  private readonly groups: { key: string; texts: string[] }[] = [];
  private readonly byKey = new Map<string, number>();
  add(key: string, text: string): number {
    const k = key.replace(NUMBER, "#");
    let n = this.byKey.get(k);
    if (n === undefined) {
      this.groups.push({ key: k, texts: [] });
      n = this.groups.length;
      this.byKey.set(k, n);
    }
    this.groups[n - 1]!.texts.push(text);
    return n;
  }
  get list(): Footnote[] {
    return this.groups.map((g, i) => {
      const [first, ...rest] = g.texts as [string, ...string[]];
      const numbers = g.texts.map((t) => t.match(NUMBER) ?? []);
      let k = 0;
      const text = first.replace(NUMBER, (x) => {
        const same = numbers.every((ns) => ns[k] === x);
        k++;
        return same || rest.length === 0 ? x : "#";
      });
      return { n: i + 1, text };
    });
  }
}

/**
 * A value is marked when it is the harness's own aggregate (not recomputed by hub) or when its
 * provenance carries a note, which is where converters say a harness defines the metric
 * differently or the recomputation is approximate.
 */
function provenanceNote(notes: Notes, harness: string, label: string, d: Distribution): number[] {
  const p = d.provenance;
  if (d.count === 0 && p.source === "recomputed") return [];
  if (p.source !== "native" && !p.note) return [];
  const from = p.native_field ? ` (${p.native_field})` : "";
  const head = p.source === "native" ? `${harness} ${label}: the harness's own value${from}, not recomputed by hub` : `${harness} ${label}: recomputed by hub${from}`;
  return [notes.add(`${harness}|${label}|${p.source}|${p.native_field ?? ""}|${p.note ?? ""}`, p.note ? `${head}; ${p.note}` : head)];
}

function flatten(o: unknown, prefix = "", out: Map<string, string> = new Map()): Map<string, string> {
  if (o !== null && typeof o === "object") {
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out.set(prefix, JSON.stringify(o));
  return out;
}

/** "differ in profile: sanity_concurrent (#1, #2), chatbot_synthetic (#3)". */
function differences(runs: readonly CompareRun[], loaded: readonly LoadedRun[]): string[] {
  const warnings: string[] = [];
  const byValue = (what: string, value: (r: CompareRun) => string | null) => {
    const groups = new Map<string, number[]>();
    for (const r of runs) {
      const v = value(r) ?? "unknown";
      groups.set(v, [...(groups.get(v) ?? []), r.n]);
    }
    if (groups.size > 1) {
      const parts = [...groups].map(([v, ns]) => `${v} (${ns.map((n) => `#${n}`).join(", ")})`);
      warnings.push(`the runs differ in ${what}: ${parts.join(", ")}`);
    }
  };
  byValue("profile", (r) => r.profile);
  byValue("target", (r) => r.target);
  byValue("model", (r) => r.model);
  // Runs of one profile name can still ask for different things: overrides, or another version.
  const byProfile = new Map<string, number[]>();
  runs.forEach((r, i) => byProfile.set(r.profile, [...(byProfile.get(r.profile) ?? []), i]));
  for (const [name, members] of byProfile) {
    const flat = members.map((i) => ({ n: runs[i]!.n, f: loaded[i]!.profile ? flatten(loaded[i]!.profile) : null })).filter((x) => x.f !== null);
    if (flat.length < 2) continue;
    const keys = [...new Set(flat.flatMap((x) => [...x.f!.keys()]))]
      .filter((k) => k !== "description" && new Set(flat.map((x) => x.f!.get(k))).size > 1)
      .sort();
    if (keys.length === 0) continue;
    const shown = keys.slice(0, 4).map((k) => `${k} = ${flat.map((x) => `${x.f!.get(k) ?? "unset"} (#${x.n})`).join(" vs ")}`);
    warnings.push(`the runs of profile ${name} use different settings: ${shown.join("; ")}${keys.length > 4 ? `; and ${keys.length - 4} more` : ""}`);
  }
  return warnings;
}

export function buildComparison(loaded: readonly LoadedRun[], baselineIndex: number | null = null): Comparison {
  if (loaded.length === 0) throw new UserError("nothing to compare: give at least one run");
  const notes = new Notes();
  const runs: CompareRun[] = loaded.map((r, i) => ({
    n: i + 1,
    id: r.metrics.run.id,
    path: r.path,
    harness: r.metrics.run.harness.name,
    harnessVersion: r.metrics.run.harness.version,
    profile: r.metrics.run.profile,
    target: targetOf(r),
    model: r.metrics.run.model,
    stages: r.metrics.stages.length,
  }));
  const base = baselineIndex === null ? null : loaded[baselineIndex]!.metrics.stages;

  const rows: CompareRow[] = [];
  loaded.forEach((r, i) => {
    const harness = r.metrics.run.harness.name;
    for (const s of r.metrics.stages) {
      const isBase = baselineIndex === i;
      // Stages are matched by load point first, so a sweep compares like with like.
      const b: Stage | undefined =
        base && !isBase ? (base.find((x) => sameLoad(x.load, s.load)) ?? base.find((x) => x.index === s.index)) : undefined;
      const withDelta = base && !isBase;
      const cell = (value: number | null, baseValue: number | null | undefined, nts?: number[]): Cell => ({
        value,
        ...(withDelta ? { delta: b ? pct(value, baseValue) : null } : {}),
        ...(nts && nts.length > 0 && value !== null ? { notes: nts } : {}),
      });
      const latency = {} as CompareRow["latency"];
      const provenance = {} as CompareRow["provenance"];
      for (const m of LATENCY_METRICS) {
        const d = s.latency[m.key];
        provenance[m.key] = d.count === 0 && d.p50 === null ? null : d.provenance;
        const nts = provenanceNote(notes, harness, m.label, d);
        latency[m.key] = Object.fromEntries(PERCENTILES.map((p) => [p, cell(d[p], b?.latency[m.key][p], nts)])) as Record<Percentile, Cell>;
      }
      const failureRate: Cell = {
        value: s.failure_rate,
        ...(withDelta ? { delta: b && s.failure_rate !== null && b.failure_rate !== null ? (s.failure_rate - b.failure_rate) * 100 : null } : {}),
      };
      rows.push({
        run: i + 1,
        stage: s.index,
        harness,
        profile: r.metrics.run.profile,
        load: s.load,
        loadLabel: loadLabel(s.load),
        requests: { total: cell(s.requests.total, b?.requests.total), successful: s.requests.successful, failed: s.requests.failed, incomplete: s.requests.incomplete },
        failureRate,
        requestsPerS: cell(s.throughput.requests_per_s, b?.throughput.requests_per_s),
        outputTokensPerS: cell(s.throughput.output_tokens_per_s, b?.throughput.output_tokens_per_s),
        latency,
        provenance,
        notes: s.notes.map((t) => notes.add(`${harness}|stage|${t}`, `${harness}: ${t}`)),
        stageNotes: s.notes,
        ...(withDelta ? { baselineStage: b ? b.index : null } : {}),
      });
    }
  });

  return { runs, rows, warnings: loaded.length > 1 ? differences(runs, loaded) : [], footnotes: notes.list, baseline: baselineIndex === null ? null : baselineIndex + 1 };
}
