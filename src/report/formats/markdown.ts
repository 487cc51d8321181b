import type { Comparison } from "../compare.ts";
import { baselineNote, runTag, sup, textColumns, title } from "./cells.ts";

/** GitHub-flavoured Markdown: a run list, warnings as a quote, one table, footnotes below. */

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|");

export function renderMarkdown(cmp: Comparison): string {
  const cols = textColumns();
  const out = [`## ${title(cmp)}`, ""];
  out.push("| run | harness | profile | target | model | path |", "|---|---|---|---|---|---|");
  for (const r of cmp.runs) {
    const tag = `${runTag(r.n)}${cmp.baseline === r.n ? " (baseline)" : ""}`;
    out.push(`| ${[tag, `${r.harness}${r.harnessVersion ? ` ${r.harnessVersion}` : ""}`, r.profile, r.target ?? "unknown", r.model ?? "unknown", `\`${r.path}\``].map(esc).join(" | ")} |`);
  }
  out.push("");
  for (const w of cmp.warnings) out.push(`> **Warning:** ${esc(w)}`, "");
  // Markdown tables have one header row, so the metric goes into each latency header.
  out.push(`| ${cols.map((c) => (c.group && !c.header.startsWith(c.group) ? `${c.group} ${c.header}` : c.header)).join(" | ")} |`);
  out.push(`|${cols.map((c) => (c.numeric ? "---:" : "---")).join("|")}|`);
  for (const r of cmp.rows) {
    const note = baselineNote(r, cmp);
    const cell = (c: (typeof cols)[number]) => {
      const d = r.baselineStage === null ? undefined : c.delta?.(r);
      if (c.header === "load" && note) return `${c.value(r)} (${note})`;
      return d === undefined ? c.value(r) : `${c.value(r)} (${d})`;
    };
    out.push(`| ${cols.map((c) => esc(cell(c))).join(" | ")} |`);
  }
  if (cmp.footnotes.length > 0) {
    out.push("", "Notes:", "");
    for (const f of cmp.footnotes) out.push(`- ${sup(f.n)} ${esc(f.text)}`);
  }
  return out.join("\n");
}
