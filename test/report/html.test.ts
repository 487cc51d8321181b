/// <reference lib="dom" />
import { mkdirSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildComparison, placeBaseline } from "../../src/report/compare.ts";
import { renderHtml } from "../../src/report/formats/html.ts";
import { loadRuns } from "../../src/report/load.ts";
import { hasChromium, openReport, type Opened } from "./browser.ts";
import { FIXTURE_RUNS, GOLDEN_RUNS } from "./fixtures.ts";

const ART = "test-artifacts";

interface ChartState {
  id: string;
  kind: string;
  datasets: { label: string; points: number; finite: number }[];
  /** Canvas pixels that are not background: the chart really drew something. */
  inked: number;
}

/** Every chart on the page, read from Chart.js itself and from the canvas pixels. */
function chartStates(o: Opened): Promise<ChartState[]> {
  return o.page.evaluate(() => {
    const w = window as unknown as { hubReport: { charts: any[] } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    return w.hubReport.charts.map((c) => {
      const canvas = c.canvas as HTMLCanvasElement;
      const px = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let inked = 0;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3]! > 0 && (px[i]! < 240 || px[i + 1]! < 240 || px[i + 2]! < 240)) inked++;
      return {
        id: canvas.id,
        kind: c.$hub.kind,
        datasets: c.data.datasets.map((d: any, i: number) => { // eslint-disable-line @typescript-eslint/no-explicit-any
          const meta = c.getDatasetMeta(i);
          return { label: d.label ?? "", points: meta.data.length, finite: meta.data.filter((e: { x: number; y: number }) => Number.isFinite(e.x) && Number.isFinite(e.y)).length };
        }),
        inked,
      };
    });
  });
}

// CI installs Debian's chromium (.ci/run); elsewhere the test says why it did not run.
describe.skipIf(!hasChromium() && !process.env.CI)("HTML report in headless chromium", () => {
  let opened: Opened;
  const file = `${ART}/compare-report.html`;

  beforeAll(async () => {
    mkdirSync(ART, { recursive: true });
    const { runs, baseline } = placeBaseline(loadRuns(GOLDEN_RUNS), "#1", (p) => loadRuns([p]));
    writeFileSync(file, renderHtml(buildComparison(runs, baseline)));
    opened = await openReport(file);
    await opened.page.waitForFunction(() => (window as unknown as { hubReport?: { ready: boolean } }).hubReport?.ready === true, null, { timeout: 15_000 });
  }, 60_000);
  afterAll(async () => {
    await opened?.close();
  });

  it("loads with no console errors and no network requests", () => {
    expect(opened.errors).toEqual([]);
  });

  it("renders every chart, each with data points for every run", async () => {
    const charts = await chartStates(opened);
    expect(charts.map((c) => c.id).sort()).toEqual(
      ["curve", "bars"].flatMap((k) => ["ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"].map((m) => `${k}-${m}`)).concat(["failure-rate", "throughput"]).sort(),
    );
    for (const c of charts) {
      expect(c.inked, `${c.id} drew nothing`).toBeGreaterThan(500);
      if (c.kind === "rows") {
        expect(c.datasets[0]!.finite, c.id).toBe(buildComparison(loadRuns(GOLDEN_RUNS)).rows.length);
        continue;
      }
      expect(c.datasets.map((d) => d.label), c.id).toHaveLength(GOLDEN_RUNS.length);
      for (const d of c.datasets) expect(d.finite, `${c.id} ${d.label}`).toBeGreaterThan(0);
    }
  });

  it("draws a run's stages as one curve", async () => {
    const charts = await chartStates(opened);
    const stages = loadRuns(GOLDEN_RUNS).map((r) => r.metrics.stages.length);
    const curve = charts.find((c) => c.id === "curve-ttft_ms")!;
    expect(curve.datasets.map((d) => d.points)).toEqual(stages);
  });

  it("switches the curves' percentile", async () => {
    const y = () => opened.page.evaluate(() => (window as unknown as { hubReport: { charts: { canvas: HTMLCanvasElement; data: { datasets: { data: { y: number }[] }[] } }[] } }).hubReport.charts.find((c) => c.canvas.id === "curve-e2e_ms")!.data.datasets[0]!.data[0]!.y);
    const p50 = await y();
    await opened.page.click('button[data-pct="p99"]');
    const p99 = await y();
    expect(p99).toBeGreaterThan(p50);
    expect(p99).toBeCloseTo(loadRuns([GOLDEN_RUNS[0]!])[0]!.metrics.stages[0]!.latency.e2e_ms.p99!, 6);
    await opened.page.click('button[data-pct="p50"]');
  });

  it("fits a laptop screen without horizontal scrolling, even with six runs", async () => {
    // Neither the page nor the table's own scroll box may overflow.
    const fits = (o: Opened) =>
      o.page.evaluate(() => {
        const box = document.querySelector("div.scroll")!;
        return { page: document.documentElement.scrollWidth - document.documentElement.clientWidth, table: box.scrollWidth - box.clientWidth };
      });
    expect(await fits(opened)).toEqual({ page: 0, table: 0 });
    const six = loadRuns([...GOLDEN_RUNS, ...GOLDEN_RUNS].slice(0, 6));
    const sixFile = `${ART}/compare-report-6.html`;
    writeFileSync(sixFile, renderHtml(buildComparison(six, 0)));
    const o = await openReport(sixFile, { width: 1280, height: 800 });
    try {
      expect(await fits(o)).toEqual({ page: 0, table: 0 });
      expect(o.errors).toEqual([]);
    } finally {
      await o.close();
    }
  }, 60_000);

  it("`hub compare` on every harness's sanity run prints the table and writes a report that renders", async () => {
    const { execa } = await import("execa");
    const sanity = FIXTURE_RUNS.filter((p) => p.endsWith("-sanity_concurrent"));
    const out = `${ART}/compare-harnesses.html`;
    const r = await execa("node", ["bin/hub.js", "compare", ...sanity, "--out", out], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(new Set(loadRuns(sanity).map((x) => x.metrics.run.harness.name)).size).toBeGreaterThanOrEqual(3);
    expect(r.stdout).toMatch(/^run +stage +harness/m);
    const o = await openReport(out);
    try {
      await o.page.waitForFunction(() => (window as unknown as { hubReport?: { ready: boolean } }).hubReport?.ready === true, null, { timeout: 15_000 });
      const charts = await chartStates(o);
      expect(charts).toHaveLength(10);
      for (const c of charts) for (const d of c.datasets) expect(d.finite, `${c.id} ${d.label}`).toBeGreaterThan(0);
      expect(o.errors).toEqual([]);
    } finally {
      await o.close();
    }
  }, 60_000);

  it("writes a screenshot as a test artifact", async () => {
    await opened.page.screenshot({ path: `${ART}/compare-report.png`, fullPage: true });
  });
});
