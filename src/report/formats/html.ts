import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { HUB_VERSION } from "../../version.ts";
import type { Cell, Comparison, CompareRow } from "../compare.ts";
import { LATENCY_METRICS, PERCENTILES } from "../compare.ts";
import { delta, ms, num, percent, runTag, title } from "./cells.ts";
import { maxOf } from "../../metrics/stats.ts";

/**
 * One self-contained HTML file: Chart.js's UMD build and the data are inlined, so the report
 * opens offline, from an e-mail attachment or a CI artifact, and never fetches anything.
 */

const require = createRequire(import.meta.url);

let chartJs: string | undefined;
/** Chart.js's minified UMD build, read once from node_modules. */
function chartJsSource(): string {
  if (chartJs === undefined) {
    const dist = dirname(require.resolve("chart.js")); // the package's exports lead to dist/chart.cjs
    chartJs = readFileSync(join(dist, "chart.umd.min.js"), "utf8")
      .replace(/\/\/# sourceMappingURL=\S+\s*$/, "") // no map beside an inlined script
      .replace(/<\/script/gi, "<\\/script");
  }
  return chartJs;
}

/** Tableau 10: distinguishable, and still apart for the common colour-vision deficiencies. */
export const RUN_COLORS = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const color = (n: number) => RUN_COLORS[(n - 1) % RUN_COLORS.length]!;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const noteLinks = (notes: readonly number[] | undefined) =>
  notes && notes.length > 0 ? `<sup>${notes.map((n) => `<a href="#note-${n}">${n}</a>`).join(",")}</sup>` : "";

/** better: which direction of change is good, for colouring deltas. */
function td(c: Cell, fmt: (x: number | null) => string, better: "lower" | "higher" | "none", unit: "%" | "pp" = "%"): string {
  let d = "";
  if (c.delta !== undefined && c.delta !== null) {
    const cls = c.delta === null || better === "none" || Math.abs(c.delta) < 0.05 ? "same" : (c.delta < 0) === (better === "lower") ? "good" : "bad";
    d = `<span class="delta ${cls}">${delta(c.delta, unit)}</span>`;
  }
  return `<td class="n">${fmt(c.value)}${noteLinks(c.notes)}${d}</td>`;
}

function tableHtml(cmp: Comparison): string {
  const groups = LATENCY_METRICS.map((m) => `<th colspan="3" class="grp">${m.label} <span class="unit">ms</span></th>`).join("");
  const head1 = `<tr><th rowspan="2">run</th><th rowspan="2">stage · load</th><th rowspan="2" class="n">requests</th><th rowspan="2" class="n">failed</th><th rowspan="2" class="n">req/s</th><th rowspan="2" class="n">out tok/s</th>${groups}</tr>`;
  const head2 = `<tr>${LATENCY_METRICS.map(() => PERCENTILES.map((p, j) => `<th class="n pct${j === 0 ? " first" : ""}">${p}</th>`).join("")).join("")}</tr>`;
  const body = cmp.rows
    .map((r: CompareRow) => {
      const run = `<td class="run"><span class="sw" style="background:${color(r.run)}"></span><b>${runTag(r.run)}</b> ${esc(r.harness)}<div class="sub">${esc(r.profile)}</div></td>`;
      const [type, point] = r.loadLabel.includes(" ") ? [r.load.type, r.loadLabel.slice(r.load.type.length + 1)] : [r.loadLabel, ""];
      const unmatched = r.baselineStage === null && cmp.baseline !== null ? `<div class="sub nomatch">no match in ${runTag(cmp.baseline)}</div>` : "";
      const stage = `<td>${r.stage}${noteLinks(r.notes)} · ${esc(point || type)}${point ? `<div class="sub">${esc(type)}</div>` : ""}${unmatched}</td>`;
      const lat = LATENCY_METRICS.map((m) => PERCENTILES.map((p) => td(r.latency[m.key][p], ms, "lower")).join("")).join("");
      return `<tr class="${cmp.baseline === r.run ? "base" : ""}">${run}${stage}${td(r.requests.total, (x) => num(x, 0), "none")}${td(r.failureRate, percent, "lower", "pp")}${td(r.requestsPerS, (x) => num(x, 2), "higher")}${td(r.outputTokensPerS, (x) => num(x, 1), "higher")}${lat}</tr>`;
    })
    .join("\n");
  // The wrapper scrolls on its own below laptop widths rather than the whole page.
  return `<div class="scroll"><table class="values"><thead>${head1}${head2}</thead><tbody>\n${body}\n</tbody></table></div>`;
}

function runsHtml(cmp: Comparison): string {
  const rows = cmp.runs
    .map(
      (r) =>
        `<tr><td><span class="sw" style="background:${color(r.n)}"></span><b>${runTag(r.n)}</b>${cmp.baseline === r.n ? ' <span class="tag">baseline</span>' : ""}</td><td>${esc(r.harness)} <span class="sub">${esc(r.harnessVersion ?? "")}</span></td><td>${esc(r.profile)}</td><td>${esc(r.target ?? "unknown")}</td><td>${esc(r.model ?? "unknown")}</td><td class="n">${r.stages}</td><td class="path">${esc(r.path)}</td></tr>`,
    )
    .join("\n");
  return `<table class="runs"><thead><tr><th>run</th><th>harness</th><th>profile</th><th>target</th><th>model</th><th class="n">stages</th><th>path</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/** The data the charts need, and nothing else, so the embedded JSON stays small. */
function chartData(cmp: Comparison) {
  const noteText = (ns: readonly number[] | undefined) => (ns ?? []).map((n) => `${n}: ${cmp.footnotes[n - 1]!.text}`);
  return {
    metrics: LATENCY_METRICS.filter((m) => m.key !== "ntpot_ms").map((m) => ({ key: m.key, label: m.label })),
    percentiles: PERCENTILES,
    runs: cmp.runs.map((r) => ({
      n: r.n,
      label: `${runTag(r.n)} ${r.harness}`,
      color: color(r.n),
      stages: cmp.rows
        .filter((row) => row.run === r.n)
        .map((row) => ({
          stage: row.stage,
          load: row.loadLabel,
          outTokS: row.outputTokensPerS.value,
          reqS: row.requestsPerS.value,
          failureRate: row.failureRate.value,
          latency: Object.fromEntries(
            LATENCY_METRICS.map((m) => [m.key, { ...Object.fromEntries(PERCENTILES.map((p) => [p, row.latency[m.key][p].value])), notes: noteText(row.latency[m.key].p50.notes) }]),
          ),
        })),
    })),
  };
}

const CSS = `
:root{--fg:#1f2328;--mute:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--good:#1a7f37;--bad:#cf222e}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1400px;margin:0 auto;padding:20px 20px 40px}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:16px;margin:28px 0 4px;padding-bottom:4px;border-bottom:1px solid var(--line)}
p.lead{color:var(--mute);margin:0 0 14px}
.hint{color:var(--mute);font-size:12.5px;margin:2px 0 10px}
table{border-collapse:collapse}
th,td{padding:3px 6px;text-align:left;vertical-align:top}
th{font-weight:600;color:var(--mute);font-size:12px}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.runs{width:100%;font-size:13px}
.runs td{border-top:1px solid var(--line)}
.runs td.path{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;word-break:break-all;color:var(--mute)}
.sw{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.sub{color:var(--mute);font-size:11.5px}
.tag{font-size:11px;background:#ddf4ff;color:#0969da;border-radius:8px;padding:0 6px}
.warn{background:#fff8c5;border:1px solid #d4a72c66;border-radius:6px;padding:8px 12px;margin:12px 0}
.warn p{margin:2px 0}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:14px 18px}
@media (max-width:900px){.grid{grid-template-columns:minmax(0,1fr)}}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:8px 10px 6px}
figcaption{font-weight:600;font-size:13px;margin-bottom:2px}
figcaption .unit{font-weight:400;color:var(--mute)}
.chart{position:relative;height:230px}
.controls{display:flex;gap:6px;align-items:center;margin:6px 0 10px;font-size:13px;flex-wrap:wrap}
.controls button{font:inherit;border:1px solid var(--line);background:var(--soft);border-radius:6px;padding:2px 10px;cursor:pointer}
.controls button[aria-pressed=true]{background:#0969da;border-color:#0969da;color:#fff}
.controls select{font:inherit}
.legend{display:flex;flex-wrap:wrap;gap:4px 16px;font-size:12.5px;margin:4px 0 8px}
div.scroll{overflow-x:auto}
table.values{width:100%;font-size:11.5px}
table.values th,table.values td{padding:3px 4px}
table.values th.grp{text-align:center;border-bottom:1px solid var(--line);border-left:1px solid var(--line)}
table.values th.first,table.values td.n:nth-child(7),table.values td.n:nth-child(10),table.values td.n:nth-child(13),table.values td.n:nth-child(16),table.values td.n:nth-child(19){border-left:1px solid var(--line)}
table.values tbody td{border-top:1px solid var(--line)}
table.values tr.base td{background:#f0f7ff}
td.run,.nomatch{white-space:nowrap}
.delta{display:block;font-size:10.5px}
.delta.good{color:var(--good)}.delta.bad{color:var(--bad)}.delta.same{color:var(--mute)}
sup{font-size:9.5px;line-height:0}
sup a{color:#0969da;text-decoration:none}
ol.notes{padding-left:22px;font-size:13px}
ol.notes li{margin:3px 0}
ol.notes li:target{background:#fff8c5}
.unit{font-weight:400;color:var(--mute)}
footer{margin-top:30px;color:var(--mute);font-size:12px}
`;

/** Runs in the browser; plain ES2019 over the embedded DATA and the Chart global. */
const CLIENT = String.raw`
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("hub-data").textContent);
  var charts = [];
  Chart.defaults.animation = false;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11.5;
  Chart.defaults.color = "#57606a";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.display = false;

  function fmt(v) { return v == null ? "-" : Math.abs(v) < 0.995 ? v.toFixed(2) : Math.abs(v) < 999.95 ? v.toFixed(1) : v.toFixed(0); }
  function canvas(id) { return document.getElementById(id); }
  function alpha(hex, a) { var n = parseInt(hex.slice(1), 16); return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")"; }

  // Latency against output throughput, one line per run through its stages in load order.
  var curvePct = "p50";
  function curveSets(metric) {
    return DATA.runs.map(function (r) {
      var pts = r.stages.filter(function (s) { return s.outTokS != null && s.latency[metric][curvePct] != null; })
        .map(function (s) { return { x: s.outTokS, y: s.latency[metric][curvePct], stage: s }; });
      // Hollow points: values with a provenance note (see the notes below the table).
      var fill = pts.map(function (p) { return p.stage.latency[metric].notes.length ? "#fff" : r.color; });
      return { label: r.label, data: pts, showLine: true, borderColor: r.color, backgroundColor: r.color, pointBackgroundColor: fill, pointBorderColor: r.color, pointBorderWidth: 2, pointRadius: 4, pointHoverRadius: 6, borderWidth: 2, tension: 0 };
    });
  }
  DATA.metrics.forEach(function (m) {
    var c = new Chart(canvas("curve-" + m.key), {
      type: "scatter",
      data: { datasets: curveSets(m.key) },
      options: {
        scales: {
          x: { title: { display: true, text: "output tokens/s" }, beginAtZero: true, grace: "5%" },
          y: { title: { display: true, text: m.label + " ms" }, beginAtZero: true, grace: "8%" }
        },
        plugins: { tooltip: { callbacks: {
          label: function (ctx) { var s = ctx.raw.stage; return ctx.dataset.label + " · stage " + s.stage + " (" + s.load + "): " + fmt(ctx.raw.y) + " ms at " + ctx.raw.x.toFixed(1) + " tok/s"; },
          footer: function (items) { return items.length ? items[0].raw.stage.latency[m.key].notes : []; }
        } } }
      }
    });
    c.$hub = { kind: "curve", metric: m.key };
    charts.push(c);
  });
  document.querySelectorAll("[data-pct]").forEach(function (b) {
    b.addEventListener("click", function () {
      curvePct = b.getAttribute("data-pct");
      document.querySelectorAll("[data-pct]").forEach(function (o) { o.setAttribute("aria-pressed", String(o === b)); });
      charts.forEach(function (c) { if (c.$hub.kind === "curve") { c.data.datasets = curveSets(c.$hub.metric); c.update(); } });
    });
  });

  // Percentile bars: p50/p90/p99 side by side, one bar per run, at the chosen stage.
  var stageIdx = 0;
  function barSets(metric) {
    return DATA.runs.map(function (r) {
      var s = r.stages[Math.min(stageIdx, r.stages.length - 1)];
      var noted = s && s.latency[metric].notes.length > 0;
      return {
        label: r.label, stage: s,
        data: DATA.percentiles.map(function (p) { return s ? s.latency[metric][p] : null; }),
        // Pale bars with a full outline: values with a provenance note.
        backgroundColor: alpha(r.color, noted ? 0.28 : 0.85), borderColor: r.color, borderWidth: noted ? 2 : 1, borderRadius: 2, maxBarThickness: 56
      };
    });
  }
  DATA.metrics.forEach(function (m) {
    var c = new Chart(canvas("bars-" + m.key), {
      type: "bar",
      data: { labels: DATA.percentiles, datasets: barSets(m.key) },
      options: {
        scales: { y: { beginAtZero: true, grace: "8%", title: { display: true, text: m.label + " ms" } }, x: { grid: { display: false } } },
        plugins: { tooltip: { callbacks: {
          label: function (ctx) { var s = ctx.dataset.stage; return ctx.dataset.label + " · stage " + s.stage + " (" + s.load + "): " + fmt(ctx.raw) + " ms"; },
          footer: function (items) { return items.length && items[0].dataset.stage ? items[0].dataset.stage.latency[m.key].notes : []; }
        } } }
      }
    });
    c.$hub = { kind: "bars", metric: m.key };
    charts.push(c);
  });
  var sel = document.getElementById("stage-select");
  if (sel) sel.addEventListener("change", function () {
    stageIdx = Number(sel.value);
    charts.forEach(function (c) { if (c.$hub.kind === "bars") { c.data.datasets = barSets(c.$hub.metric); c.update(); } });
  });

  // Per run × stage: failure rate and output throughput, with the value written on each bar
  // (a 0 % bar is otherwise indistinguishable from a missing one).
  var rows = [];
  DATA.runs.forEach(function (r) { r.stages.forEach(function (s) { rows.push({ r: r, s: s }); }); });
  var valueLabels = {
    id: "hubValueLabels",
    afterDatasetsDraw: function (chart, args, opts) {
      var ctx = chart.ctx; ctx.save(); ctx.font = "11px " + Chart.defaults.font.family; ctx.fillStyle = "#1f2328"; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
      chart.getDatasetMeta(0).data.forEach(function (bar, i) {
        var v = chart.data.datasets[0].data[i];
        if (v != null) ctx.fillText(opts.format(v), bar.x, bar.y - 2);
      });
      ctx.restore();
    }
  };
  function rowChart(id, values, yTitle, format, suggestedMax) {
    var c = new Chart(canvas(id), {
      type: "bar",
      data: {
        labels: rows.map(function (x) { return "#" + x.r.n + " s" + x.s.stage; }),
        datasets: [{ data: values, backgroundColor: rows.map(function (x) { return alpha(x.r.color, 0.85); }), borderColor: rows.map(function (x) { return x.r.color; }), borderWidth: 1, borderRadius: 2, maxBarThickness: 56 }]
      },
      options: {
        layout: { padding: { top: 14 } },
        scales: { y: { beginAtZero: true, suggestedMax: suggestedMax, title: { display: true, text: yTitle } }, x: { grid: { display: false } } },
        plugins: { hubValueLabels: { format: format }, tooltip: { callbacks: {
          title: function (items) { var x = rows[items[0].dataIndex]; return x.r.label + " · stage " + x.s.stage + " (" + x.s.load + ")"; },
          label: function (ctx) { return format(ctx.raw); }
        } } }
      },
      plugins: [valueLabels]
    });
    c.$hub = { kind: "rows" };
    charts.push(c);
  }
  rowChart("failure-rate", rows.map(function (x) { return x.s.failureRate == null ? null : x.s.failureRate * 100; }), "failed requests %", function (v) { return v.toFixed(1) + "%"; }, 5);
  rowChart("throughput", rows.map(function (x) { return x.s.outTokS; }), "output tokens/s", function (v) { return v.toFixed(0); }, undefined);

  window.hubReport = { charts: charts, ready: true };
})();
`;

export function renderHtml(cmp: Comparison): string {
  const maxStages = maxOf(cmp.runs.map((r) => r.stages));
  const legend = `<div class="legend">${cmp.runs.map((r) => `<span><span class="sw" style="background:${color(r.n)}"></span>${runTag(r.n)} ${esc(r.harness)}</span>`).join("")}</div>`;
  const figs = (prefix: string) =>
    LATENCY_METRICS.filter((m) => m.key !== "ntpot_ms")
      .map((m) => `<figure><figcaption>${m.label} <span class="unit">ms</span></figcaption><div class="chart"><canvas id="${prefix}-${m.key}" role="img" aria-label="${m.label} ${prefix === "curve" ? "against output throughput" : "percentiles"}"></canvas></div></figure>`)
      .join("\n");
  const stageSelect =
    maxStages > 1
      ? `<label>stage <select id="stage-select">${Array.from({ length: maxStages }, (_, i) => `<option value="${i}">${i}</option>`).join("")}</select></label> <span class="hint">runs with fewer stages show their last</span>`
      : "";
  const data = JSON.stringify(chartData(cmp)).replace(/</g, "\\u003c");
  const notes = cmp.footnotes.map((f) => `<li id="note-${f.n}" value="${f.n}">${esc(f.text)}</li>`).join("\n");
  const heading = title(cmp).replace(/^hub compare · /, "");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hub compare: ${esc(cmp.runs.map((r) => `${runTag(r.n)} ${r.harness}`).join(", "))}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>Benchmark comparison</h1>
<p class="lead">${esc(heading)}</p>
${runsHtml(cmp)}
${cmp.warnings.length > 0 ? `<div class="warn" role="alert">${cmp.warnings.map((w) => `<p><b>Warning:</b> ${esc(w)}</p>`).join("")}</div>` : ""}

<h2>Values</h2>
<p class="hint">Latencies in ms.${cmp.baseline !== null ? ` Changes against ${runTag(cmp.baseline)} below each value (failure rate in percentage points); green is better.` : ""} Superscripts link to the provenance notes.</p>
${tableHtml(cmp)}

<h2>Latency against throughput</h2>
<p class="hint">One point per stage, joined in load order; x is output tokens per second. Hollow points have a provenance note.</p>
<div class="controls">percentile ${PERCENTILES.map((p, i) => `<button type="button" data-pct="${p}" aria-pressed="${i === 0}">${p}</button>`).join("")}</div>
${legend}
<div class="grid">
${figs("curve")}
</div>

<h2>Latency percentiles by harness</h2>
<p class="hint">p50, p90 and p99 side by side, one bar per run. Pale bars have a provenance note: the harness's own value, or one it defines differently; see the notes.</p>
${stageSelect ? `<div class="controls">${stageSelect}</div>` : ""}
${legend}
<div class="grid">
${figs("bars")}
</div>

<h2>Failures and throughput</h2>
<div class="grid">
<figure><figcaption>Failure rate <span class="unit">% of finished requests, per run and stage</span></figcaption><div class="chart"><canvas id="failure-rate" role="img" aria-label="failure rate"></canvas></div></figure>
<figure><figcaption>Output throughput <span class="unit">tokens/s, per run and stage</span></figcaption><div class="chart"><canvas id="throughput" role="img" aria-label="output throughput"></canvas></div></figure>
</div>


<h2>Provenance notes</h2>
${cmp.footnotes.length > 0 ? `<ol class="notes">\n${notes}\n</ol>` : `<p class="hint">Every value was recomputed by hub from per-request data with the definitions in docs/metrics.md.</p>`}
<footer>harness-hub ${esc(HUB_VERSION)} · charts by Chart.js, inlined</footer>
</main>
<script>${chartJsSource()}</script>
<script type="application/json" id="hub-data">${data}</script>
<script>${CLIENT}</script>
</body>
</html>
`;
}
