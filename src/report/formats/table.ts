import type { Comparison } from "../compare.ts";
import { baselineNote, runLine, sup, textColumns, title, type TextColumn } from "./cells.ts";

/**
 * Aligned plain text for a terminal. The fifteen latency columns sit under one heading per
 * metric (`TTFT ms` over p50 p90 p99) so the table stays as narrow as its numbers allow.
 */
export function renderGroupedTable(columns: readonly Pick<TextColumn, "header" | "group" | "numeric">[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  // A group heading wider than its columns widens its last column.
  for (let i = 0; i < columns.length; ) {
    const g = columns[i]!.group;
    let j = i;
    while (j < columns.length && g !== undefined && columns[j]!.group === g) j++;
    if (g !== undefined) {
      const span = widths.slice(i, j).reduce((a, b) => a + b, 0) + 2 * (j - i - 1);
      if (g.length > span) widths[j - 1]! += g.length - span;
      i = j;
    } else i++;
  }
  const pad = (s: string, i: number) => (columns[i]!.numeric ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  const line = (cells: readonly string[]) => cells.map((c, i) => pad(c, i)).join("  ").trimEnd();

  const groupLine: string[] = [];
  for (let i = 0; i < columns.length; ) {
    const g = columns[i]!.group;
    let j = i + 1;
    while (j < columns.length && g !== undefined && columns[j]!.group === g) j++;
    const span = widths.slice(i, j).reduce((a, b) => a + b, 0) + 2 * (j - i - 1);
    if (g === undefined) groupLine.push(" ".repeat(span));
    else {
      // Centred over its columns, between rules, so each metric's three columns read as one.
      const label = ` ${g} `;
      const left = Math.max(0, Math.floor((span - label.length) / 2));
      const right = Math.max(0, span - label.length - left);
      groupLine.push(`${"─".repeat(left)}${label}${"─".repeat(right)}`);
    }
    i = j;
  }
  const hasGroups = columns.some((c) => c.group !== undefined);
  return [
    ...(hasGroups ? [groupLine.join("  ").trimEnd()] : []),
    line(columns.map((c) => c.header)),
    widths.map((w) => "─".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
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
