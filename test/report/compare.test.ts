import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Metrics } from "../../src/metrics/schema.ts";
import { buildComparison, placeBaseline } from "../../src/report/compare.ts";
import { formats } from "../../src/report/formats/index.ts";
import { loadRuns, type LoadedRun } from "../../src/report/load.ts";
import { summaryTable } from "../../src/report/table.ts";
import { FIXTURE_RUNS, GOLDEN_RUNS } from "./fixtures.ts";

const temps: string[] = [];
/** A temporary directory, removed after this file's tests. */
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hub-report-"));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const clone = <T>(x: T): T => structuredClone(x);

/** A copy of a run with every latency and throughput scaled, to check the delta arithmetic. */
function scaled(run: LoadedRun, latency: number, throughput: number, id: string): LoadedRun {
  const m: Metrics = clone(run.metrics);
  m.run.id = id;
  for (const s of m.stages) {
    for (const d of Object.values(s.latency)) for (const k of ["p50", "p90", "p99"] as const) d[k] = d[k] === null ? null : d[k]! * latency;
    s.throughput.output_tokens_per_s = s.throughput.output_tokens_per_s! * throughput;
    s.throughput.requests_per_s = s.throughput.requests_per_s! * throughput;
  }
  return { ...run, path: `${run.path}-scaled`, metrics: m };
}

describe("golden outputs from committed real runs", () => {
  const ext = { table: "txt", md: "md", csv: "csv", json: "json" } as const;
  for (const f of ["table", "md", "csv", "json"] as const) {
    it(`${f}`, async () => {
      const out = formats[f](buildComparison(loadRuns(GOLDEN_RUNS)));
      await expect(`${out}\n`).toMatchFileSnapshot(`__golden__/compare.${ext[f]}`);
    });
    it(`${f} with --baseline`, async () => {
      const { runs, baseline } = placeBaseline(loadRuns(GOLDEN_RUNS), "#1", (p) => loadRuns([p]));
      const out = formats[f](buildComparison(runs, baseline));
      await expect(`${out}\n`).toMatchFileSnapshot(`__golden__/compare-baseline.${ext[f]}`);
    });
  }
});

describe("loading runs", () => {
  it("takes run directories, metrics.json files and a directory of runs", () => {
    const [first] = FIXTURE_RUNS;
    expect(loadRuns([first!])[0]!.runRecord).not.toBeNull();
    expect(loadRuns([join(first!, "metrics.json")])[0]!.profile).not.toBeNull();
    const all = loadRuns(["test/fixtures/runs"]);
    expect(all.map((r) => r.path)).toEqual([...FIXTURE_RUNS].sort());
  });

  it("says what is wrong with a path that is not a run", () => {
    const dir = tempDir();
    expect(() => loadRuns([join(dir, "nope")])).toThrow(/does not exist/);
    expect(() => loadRuns([dir])).toThrow(/holds no metrics.json/);
    writeFileSync(join(dir, "metrics.json"), JSON.stringify({ schema_version: "1.0.0", run: {} }));
    expect(() => loadRuns([dir])).toThrow(/is not a hub metrics.json: run\.id/);
  });
});

const SANITY = "test/fixtures/runs/guidellm-sanity_concurrent";

describe("comparison", () => {
  const base = loadRuns([SANITY])[0]!;

  it("computes changes against the baseline, matching stages by load point", () => {
    const slower = scaled(base, 1.1, 0.8, "slower");
    const cmp = buildComparison([base, slower], 0);
    const [b, s] = cmp.rows;
    expect(b!.latency.ttft_ms.p50.delta).toBeUndefined();
    expect(s!.baselineStage).toBe(0);
    expect(s!.latency.ttft_ms.p50.delta).toBeCloseTo(10, 6);
    expect(s!.latency.e2e_ms.p99.delta).toBeCloseTo(10, 6);
    expect(s!.outputTokensPerS.delta).toBeCloseTo(-20, 6);
    expect(s!.failureRate.delta).toBe(0); // percentage points
    const table = formats.table(cmp);
    expect(table).toContain("+10.0%");
    expect(table).toContain("-20.0%");
  });

  it("places a --baseline run that is not among the compared ones first", () => {
    const [a, b] = FIXTURE_RUNS;
    const { runs, baseline } = placeBaseline(loadRuns([a!]), b!, (p) => loadRuns([p]));
    expect(baseline).toBe(0);
    expect(runs.map((r) => r.path)).toEqual([b, a]);
    expect(() => placeBaseline(loadRuns([a!]), "#7", (p) => loadRuns([p]))).toThrow(/--baseline #7 is none of the runs/);
  });

  it("marks native values and definition differences, with the reason in a footnote", () => {
    const native = clone(base);
    native.metrics.run.harness.name = "other-harness";
    native.metrics.stages[0]!.latency.tpot_ms.provenance = { source: "native", native_field: "mean_tpot_ms", note: "includes the first token" };
    const cmp = buildComparison([base, native]);
    const row = cmp.rows[1]!;
    const n = row.latency.tpot_ms.p50.notes![0]!;
    expect(cmp.footnotes[n - 1]!.text).toBe("other-harness TPOT: the harness's own value (mean_tpot_ms), not recomputed by hub; includes the first token");
    expect(row.provenance.tpot_ms?.source).toBe("native");
    expect(formats.table(cmp)).toMatch(new RegExp(`${row.latency.tpot_ms.p50.value!.toFixed(1)}[¹²³⁴⁵⁶⁷⁸⁹]`));
    expect(formats.csv(cmp).split("\n")[2]).toContain("native,mean_tpot_ms,includes the first token");
  });

  it("warns, naming the difference, when runs differ in profile, target or model", () => {
    const other = clone(base);
    other.metrics.run.profile = "chatbot_synthetic";
    other.metrics.run.model = "another-model";
    other.runRecord = { ...other.runRecord, target_is_simulator: false };
    other.metrics.run.target = "http://10.0.0.5:8000";
    const w = buildComparison([base, other]).warnings;
    expect(w).toContain(`the runs differ in profile: ${base.metrics.run.profile} (#1), chatbot_synthetic (#2)`);
    expect(w).toContain("the runs differ in target: hub simulator (#1), http://10.0.0.5:8000 (#2)");
    expect(w.some((x) => x.startsWith(`the runs differ in model: ${base.metrics.run.model} (#1), another-model (#2)`))).toBe(true);
  });

  it("warns when one profile name hides different settings", () => {
    const other = clone(base);
    other.profile = { ...(other.profile as object), data: { type: "random", input_tokens: { mean: 999 } } };
    const w = buildComparison([base, other]).warnings;
    expect(w.join("\n")).toMatch(/the runs of profile sanity_concurrent use different settings: data\.input_tokens\.mean = \d+ \(#1\) vs 999 \(#2\)/);
  });

  it("`hub run` prints the compare table for its own run", () => {
    const table = summaryTable(base.metrics, base.dir!);
    expect(table).toBe(formats.table(buildComparison([{ ...base, path: SANITY }])));
    expect(table.split("\n")[0]).toBe("1 run · latencies in ms");
    expect(table).not.toMatch(/warning/);
  });
});

describe("hub compare on the command line", () => {
  it("prints the table and writes the report a --out extension asks for", async () => {
    const { execa } = await import("execa");
    const dir = tempDir();
    const out = join(dir, "r.csv");
    const r = await execa("node", ["bin/hub.js", "compare", ...GOLDEN_RUNS, "--out", out], { reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(formats.table(buildComparison(loadRuns(GOLDEN_RUNS))));
    expect(readFileSync(out, "utf8")).toBe(`${formats.csv(buildComparison(loadRuns(GOLDEN_RUNS)))}\n`);
    expect(r.stderr).toContain(`hub: wrote ${out}`);
  });

  it("takes a directory of runs, and exits 2 on a bad argument", async () => {
    const { execa } = await import("execa");
    const dir = tempDir();
    for (const r of GOLDEN_RUNS.slice(0, 2)) cpSync(r, join(dir, r.split("/").pop()!), { recursive: true });
    mkdirSync(join(dir, "not-a-run"));
    mkdirSync(join(dir, "failed-run"));
    writeFileSync(join(dir, "failed-run", "run.json"), "{}");
    const ok = await execa("node", ["bin/hub.js", "compare", dir, "--format", "json"], { reject: false });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).runs).toHaveLength(2);
    expect(ok.stderr).toBe(`hub: warning: skipped ${join(dir, "failed-run")}: no metrics.json (see its run.json and native/ logs)`);
    const bad = await execa("node", ["bin/hub.js", "compare", dir, "--format", "xml"], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('unknown --format "xml"');
  });
});
