/**
 * fmperf end to end. fmperf is on no package index and CI cannot fetch its source, so the run
 * against hub's simulator needs fmperf installed first (`hub harness install fmperf --from
 * <fmperf-project/fmperf source or wheel>`); without it that part is skipped and says so. The CLI
 * conversion of the recorded fixtures runs everywhere.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fmperf from "../../harnesses/fmperf/index.ts";
import { builtinNames } from "../../src/harness/registry.ts";
import type { Reporter } from "../../src/report/reporter.ts";
import { runBenchmark } from "../../src/run/run.ts";
import { installedVersion, isInstalled } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { groundTruth, hub, readValidMetrics, tempOut, within } from "./helpers.ts";

const TTFT_MS = 50;
const ITL_MS = 10;
const FIXTURES = fileURLToPath(new URL("../fixtures/fmperf/0.0.1/", import.meta.url));
/** Until harnesses/index.ts lists fmperf, the CLI loads it as a plugin. */
const PLUGIN = builtinNames().has("fmperf") ? [] : ["--plugin", fileURLToPath(new URL("../../harnesses/fmperf/index.ts", import.meta.url))];

const installed = isInstalled(fmperf) && (await installedVersion(fmperf)).kind === "ok";
const NOT_INSTALLED = "SKIPPED: fmperf is not installed here; run `hub harness install fmperf --from <fmperf source or wheel>` to include it";
if (!installed) console.warn(`test/e2e/fmperf.test.ts: ${NOT_INSTALLED}`);

describe("hub convert --harness fmperf on recorded fmperf output", () => {
  it.each(["two_users", "sweep", "failures", "exclude"])("%s: writes a metrics.json that validates", async (name) => {
    const out = tempOut(`fmperf-convert-${name}`);
    const r = await hub([...PLUGIN, "convert", "--harness", "fmperf", join(FIXTURES, name), "--out", join(out, "..", "metrics.json")]);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = readValidMetrics(join(out, ".."));
    expect(m.run.harness).toEqual({ name: "fmperf", version: null });
    expect(m.stages.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/does not say which version/);
  });
});

describe.skipIf(!installed)(`fmperf end to end against hub's simulator${installed ? "" : ` (${NOT_INSTALLED})`}`, () => {
  let sim: Simulator;
  const quiet: Reporter = {};
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("runs generate-input then 2 users for 5 s, and the metrics match the simulator's ground truth", async () => {
    const out = tempOut("fmperf");
    const overrides = ["load.stages.0.duration_s=5", "data.input_tokens.mean=128", "data.output_tokens.mean=32"];
    const outcome = await runBenchmark({ harness: fmperf, profile: "sanity_concurrent", overrides, target: sim.url, out }, quiet);
    expect(outcome.kind, outcome.kind === "failed" ? outcome.reason : "").toBe("ok");

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "fmperf", version: "0.0.1" }, target: sim.url, model: "hub-sim", exit_code: 0 });
    expect(m.stages).toHaveLength(1);
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });

    // generate-input sends its 10 requests first; everything after is the load.
    const load = sim.trace().slice(10);
    const truth = groundTruth(load);
    expect(s.requests.successful).toBe(truth.ok);
    expect(s.requests.failed).toBe(0);
    expect(new Set(truth.completionTokens)).toEqual(new Set([32]));
    expect(s.tokens.output_per_request).toMatchObject({ min: 32, max: 32 });
    expect(s.tokens.input_per_request).toMatchObject({ min: 128, max: 128 });
    expect(within(s.latency.ttft_ms.p50, TTFT_MS, 0.1), `TTFT p50 ${s.latency.ttft_ms.p50}`).toBe(true);
    expect(within(s.latency.itl_ms.p50, ITL_MS, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(within(s.latency.tpot_ms.p50, ITL_MS, 0.1), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run.commands.map((c: { argv: string[] }) => c.argv.slice(1).join(" "))).toEqual([
      expect.stringMatching(/^hub_fmperf_setup\.py /),
      "-m fmperf.loadgen.generate-input",
      "-m fmperf.loadgen.run",
    ]);
  });

  it("runs two stages of one duration as fmperf's sweep", async () => {
    const out = tempOut("fmperf-sweep");
    const overrides = ['load.stages=[{"concurrency":1,"duration_s":3},{"concurrency":2,"duration_s":3}]', "data.input_tokens.mean=64", "data.output_tokens.mean=16"];
    const outcome = await runBenchmark({ harness: fmperf, profile: "sanity_concurrent", overrides, target: sim.url, out }, quiet);
    expect(outcome.kind, outcome.kind === "failed" ? outcome.reason : "").toBe("ok");
    const m = readValidMetrics(out);
    expect(m.stages.map((s) => s.load)).toEqual([
      { type: "concurrent", concurrency: 1 },
      { type: "concurrent", concurrency: 2 },
    ]);
    for (const s of m.stages) expect(within(s.latency.ttft_ms.p50, TTFT_MS, 0.1), `TTFT p50 ${s.latency.ttft_ms.p50}`).toBe(true);
  });
});
