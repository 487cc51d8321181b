import type { Cell, Comparison } from "../compare.ts";
import { LATENCY_METRICS, PERCENTILES } from "../compare.ts";

/**
 * One row per run × stage with plain numbers, for spreadsheets and scripts: no marks inside
 * values, so provenance gets its own columns (`<metric>_source`, `_from`, `_note`) instead.
 */

const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
/** Six significant digits: the measurements are not more precise, and goldens stay stable. */
export const round = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Number(x.toPrecision(6)));
const n = (x: number | null | undefined) => {
  const r = round(x);
  return r === null ? "" : String(r);
};

export function renderCsv(cmp: Comparison): string {
  const withBase = cmp.baseline !== null;
  const header: string[] = ["run", "run_id", "path", "stage", "harness", "harness_version", "profile", "target", "model", "load_type", "concurrency", "rate"];
  const values = (name: string, deltaName = `${name}_delta_pct`) => {
    header.push(name);
    if (withBase) header.push(deltaName);
  };
  values("requests_total");
  header.push("requests_successful", "requests_failed", "requests_incomplete");
  values("failure_rate", "failure_rate_delta_pp");
  values("requests_per_s");
  values("output_tokens_per_s");
  for (const m of LATENCY_METRICS) {
    for (const p of PERCENTILES) values(`${m.key}_${p}`);
    header.push(`${m.key}_source`, `${m.key}_from`, `${m.key}_note`);
  }
  header.push("stage_notes");

  const lines = [header.join(",")];
  for (const r of cmp.rows) {
    const run = cmp.runs[r.run - 1]!;
    const cells: string[] = [String(r.run), run.id, run.path, String(r.stage), r.harness, run.harnessVersion ?? "", r.profile, run.target ?? "", run.model ?? "", r.load.type, n(r.load.concurrency), n(r.load.rate)];
    const add = (c: Cell) => {
      cells.push(n(c.value));
      if (withBase) cells.push(n(c.delta));
    };
    add(r.requests.total);
    cells.push(String(r.requests.successful), String(r.requests.failed), String(r.requests.incomplete));
    add(r.failureRate);
    add(r.requestsPerS);
    add(r.outputTokensPerS);
    for (const m of LATENCY_METRICS) {
      for (const p of PERCENTILES) add(r.latency[m.key][p]);
      // The row's own provenance, exact; the footnotes of other formats merge similar ones.
      const pv = r.provenance[m.key];
      cells.push(pv?.source ?? "", pv?.native_field ?? "", pv?.note ?? "");
    }
    cells.push(r.stageNotes.join(" | "));
    lines.push(cells.map(q).join(","));
  }
  return lines.join("\n");
}
