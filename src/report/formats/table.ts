import type { Comparison } from "../compare.ts";
import { maxOf } from "../../metrics/stats.ts";
import { baselineNote, runLine, sup, textColumns, title, type TextColumn } from "./cells.ts";

/**
 * Aligned plain text for a terminal. Each latency metric's three columns sit a little apart from
 * the next, so the fifteen of them read as five groups without a second header line.
 */
export function renderGroupedTable(columns: readonly Pick<TextColumn, "header" | "group" | "numeric">[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, maxOf(rows.map((r) => (r[i] ?? "").length))));
  const gap = (i: number) => (i === 0 ? "" : columns[i]!.group !== undefined && columns[i]!.group !== columns[i - 1]!.group ? "   " : "  ");
  const pad = (s: string, i: number) => (columns[i]!.numeric ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => cells.map((c, i) => gap(i) + pad(c, i)).join("").trimEnd();
  return [line(columns.map((c) => c.header)), columns.map((_, i) => gap(i) + "─".repeat(widths[i]!)).join(""), ...rows.map(line)].join("\n");
}

export function renderTableFormat(cmp: Comparison): string {
  const cols = textColumns();
  const rows: string[][] = [];
  for (const r of cmp.rows) {
    rows.push(cols.map((c) => c.value(r)));
    // Changes go on a line of their own under the values, so a baseline does not widen the table.
    const note = baselineNote(r, cmp);
    if (note === undefined) continue;
    const matched = r.baselineStage !== null;
    rows.push(cols.map((c) => (c.header === "load" ? note : matched ? (c.delta?.(r) ?? "") : "")));
  }
  const out = [title(cmp), ...cmp.runs.map((r) => `  ${runLine(r)}${cmp.baseline === r.n ? "  (baseline)" : ""}`)];
  for (const w of cmp.warnings) out.push(`warning: ${w}`);
  out.push("", renderGroupedTable(cols, rows));
  if (cmp.footnotes.length > 0) {
    out.push("");
    for (const f of cmp.footnotes) out.push(`${sup(f.n)} ${f.text}`);
  }
  return out.join("\n");
}
