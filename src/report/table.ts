import type { Distribution, Metrics, Stage } from "../metrics/schema.ts";

/** Renders rows as an aligned plain-text table (numbers right-aligned). */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+\d.,%*]*$|^-$/.test(r[i] ?? "")));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  return x.toFixed(digits);
}

/** A value with `*` when it is the harness's own aggregate rather than recomputed by hub. */
function stat(d: Distribution, key: "p50" | "p90" | "p99"): string {
  const v = fmt(d[key]);
  return d.provenance.source === "native" && v !== "-" ? `${v}*` : v;
}

export function loadLabel(stage: Stage): string {
  const { type, concurrency, rate } = stage.load;
  if (concurrency !== undefined) return `${type} c=${concurrency}`;
  if (rate !== undefined) return `${type} ${rate}/s`;
  return type;
}

/** The summary `hub run` prints at its end. */
export function summaryTable(metrics: Metrics): string {
  const header = ["stage", "load", "ok", "failed", "req/s", "out tok/s", "TTFT p50", "TTFT p99", "TPOT p50", "ITL p50", "ITL p99", "E2E p50"];
  const rows = metrics.stages.map((s) => [
    String(s.index),
    loadLabel(s),
    String(s.requests.successful),
    String(s.requests.failed),
    fmt(s.throughput.requests_per_s, 2),
    fmt(s.throughput.output_tokens_per_s),
    stat(s.latency.ttft_ms, "p50"),
    stat(s.latency.ttft_ms, "p99"),
    stat(s.latency.tpot_ms, "p50"),
    stat(s.latency.itl_ms, "p50"),
    stat(s.latency.itl_ms, "p99"),
    stat(s.latency.e2e_ms, "p50"),
  ]);
  const native = metrics.stages.some((s) => Object.values(s.latency).some((d) => d.provenance.source === "native" && d.count > 0));
  const title = `${metrics.run.harness.name} ${metrics.run.harness.version ?? ""} · ${metrics.run.profile} · latencies in ms`;
  return [title, renderTable(header, rows), ...(native ? ["* the harness's own aggregate (no per-request data); see metrics.json provenance"] : [])].join("\n");
}
