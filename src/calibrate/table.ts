/** The error table `hub calibrate` prints: one block per simulator setting. */
import type { LatencyKey } from "../metrics/schema.ts";
import { renderTable } from "../report/table.ts";
import { errorOf, type Check } from "./errors.ts";
import { describeSetting } from "./settings.ts";
import { LATENCY_KEYS } from "./truth.ts";
import type { CalibrationResult, CalibrationRun, SettingResult } from "./types.ts";

const LABEL: Record<LatencyKey, string> = { ttft_ms: "TTFT ms", tpot_ms: "TPOT ms", itl_ms: "ITL ms", ntpot_ms: "NTPOT ms", e2e_ms: "E2E ms" };

const num = (x: number | null | undefined, digits = 2) => (x === null || x === undefined || !Number.isFinite(x) ? "-" : x.toFixed(digits));

export function pct(rel: number | null | undefined, digits = 1): string {
  if (rel === null || rel === undefined || !Number.isFinite(rel)) return "-";
  const p = rel * 100;
  const s = p.toFixed(digits);
  // "-0.0%" reads as a sign error; a rounded zero is "0.0%".
  if (Number(s) === 0) return `${(0).toFixed(digits)}%`;
  return `${p > 0 ? "+" : ""}${s}%`;
}

function rows(run: CalibrationRun): string[][] {
  const { measured, truth, nominal } = run;
  if (!measured || !truth) return [[run.harness, run.status, "-", "-", "-", "-", "-", "-", "-"]];
  return LATENCY_KEYS.map((key, i) => {
    const m = measured.latency[key];
    const t = truth.latency[key];
    const mark = m.provenance?.source === "native" ? "*" : "";
    const e50 = errorOf(key, m.p50, t.p50);
    const e90 = errorOf(key, m.p90, t.p90);
    return [
      i === 0 ? run.harness : "",
      LABEL[key],
      num(nominal?.latency[key].p50),
      num(t.p50),
      m.p50 === null ? "-" : `${num(m.p50)}${mark}`,
      pct(e50.rel),
      num(t.p90),
      m.p90 === null ? "-" : `${num(m.p90)}${mark}`,
      pct(e90.rel),
    ];
  });
}

const LABEL_SHORT: Record<string, string> = { "ttft_ms.p50": "TTFT p50", "itl_ms.p50": "ITL p50" };
function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  const s = x.toFixed(2);
  return Number(s) === 0 ? "0.00 ms" : `${x > 0 ? "+" : ""}${s} ms`;
}

function checksText(checks: readonly Check[]): string {
  const byMetric = new Map<string, Check[]>();
  for (const c of checks) byMetric.set(c.metric, [...(byMetric.get(c.metric) ?? []), c]);
  return [...byMetric.entries()]
    .map(([metric, cs]) => {
      const parts = cs.map((c) => {
        const abs = c.value !== null && c.expected !== null ? c.value - c.expected : null;
        const over = c.ok ? "" : ` OVER ${pct(c.tolerance, 0).replace("+", "")}`;
        if (c.against === "paired") return `${ms(c.value)} (${pct(c.rel)}) per request, paired with the trace${over}`;
        return `${ms(abs)} (${pct(c.rel)}) vs ${c.against}${over}`;
      });
      return `${LABEL_SHORT[metric] ?? metric} ${parts.join(", ")}`;
    })
    .join("; ");
}

/** Lines under the table for one harness: verdict, checks, the TTFT split, throughput, counts. */
function summaryLines(run: CalibrationRun): string[] {
  if (run.status !== "ok" && !run.measured) return [`  ${run.harness}: ${run.status}: ${run.reason ?? "no metrics"}`];
  const lines = [`  ${run.harness}: ${run.ok ? "ok" : "FAIL"}${run.status === "ok" ? "" : ` (run ${run.status}${run.reason ? `: ${run.reason}` : ""})`}`];
  if (run.checks) lines.push(`    ${checksText(run.checks)}`);
  if (run.ttft_split) {
    const a = run.ttft_split;
    const split = a.split_consistent
      ? `of it send p50 ${ms(a.send_ms.p50)} (harness start to server receipt), receive p50 ${ms(a.receive_ms.p50)} (server first token to harness)`
      : "no token reached the harness promptly, so its clock offset and the send/receive split are unknown";
    lines.push(`    TTFT harness - server, per request (${a.matched} matched): p50 ${ms(a.ttft_diff_ms.p50)}, max ${ms(a.ttft_diff_ms.max)}; ${split}`);
  }
  if (run.measured && run.truth) {
    const tps = errorOf("output_tokens_per_s", run.measured.output_tokens_per_s, run.truth.output_tokens_per_s);
    const total = (o: NonNullable<CalibrationRun["measured"]>) => (o.output_tokens_per_request.mean !== null ? Math.round(o.output_tokens_per_request.mean * o.output_tokens_per_request.count) : "-");
    lines.push(`    out tok/s ${num(tps.value, 1)} vs ${num(tps.truth, 1)} (${pct(tps.rel)}); requests ${run.measured.requests.successful}/${run.truth.requests.successful}; output tokens ${total(run.measured)}/${total(run.truth)}`);
  }
  return lines;
}

export function renderSetting(s: SettingResult): string {
  const header = ["harness", "metric", "set", "trace p50", "p50", "err", "trace p90", "p90", "err"];
  const table = renderTable(header, s.runs.flatMap(rows));
  const lines = [`${s.setting.name}: ${describeSetting(s.setting)}`, table, ...s.runs.flatMap(summaryLines)];
  return lines.join("\n");
}

export function renderCalibration(r: CalibrationResult): string {
  const blocks = r.settings.map(renderSetting);
  const anyNative = r.settings.some((s) => s.runs.some((run) => run.measured && LATENCY_KEYS.some((k) => run.measured!.latency[k].provenance?.source === "native")));
  const foot = [
    `profile ${r.profile.name}${r.profile.overrides.length ? ` (${r.profile.overrides.join(" ")})` : ""}; set = the simulator's latency model, trace = its ground truth for that run, err = harness vs trace.`,
    `checks: TTFT p50 and ITL p50 within ${pct(r.tolerance, 0).replace("+", "")} of the trace's, and of the set latency without jitter; with jitter, TTFT per request paired with the trace's record of it.`,
    "tok/s and counts: harness vs trace.",
  ];
  if (anyNative) foot.push("* the harness's own aggregate (provenance native), not recomputed from per-request data");
  for (const l of r.left_out) foot.push(`left out: ${l.harness}: ${l.reason}`);
  return [blocks.join("\n\n"), foot.join("\n"), `calibration ${r.ok ? "passed" : "FAILED"}; results in ${r.out_dir}`].join("\n\n");
}
