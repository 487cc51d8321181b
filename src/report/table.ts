import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Metrics } from "../metrics/schema.ts";
import { maxOf } from "../metrics/stats.ts";
import { buildComparison } from "./compare.ts";
import { renderTableFormat } from "./formats/table.ts";
import { displayPath, loadRuns, type LoadedRun } from "./load.ts";

/** Renders rows as an aligned plain-text table (numbers right-aligned). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, maxOf(rows.map((r) => (r[i] ?? "").length))));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+\d.,%*]*$|^-$/.test(r[i] ?? "")));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  return x.toFixed(digits);
}

/**
 * The table `hub run` prints at its end: `hub compare`'s table for this one run, so a run and
 * a comparison read the same.
 */
export function summaryTable(metrics: Metrics, outDir?: string): string {
  let run: LoadedRun = { path: outDir ? displayPath(outDir) : metrics.run.id, dir: null, metrics, profile: null, profileText: null, runRecord: null };
  if (outDir && existsSync(join(outDir, "metrics.json"))) {
    try {
      // run.json says whether the target was hub's simulator; the metrics in hand stay authoritative.
      run = { ...loadRuns([outDir])[0]!, path: run.path, metrics };
    } catch {
      // a half-written run directory still gets its table
    }
  }
  return renderTableFormat(buildComparison([run]));
}
