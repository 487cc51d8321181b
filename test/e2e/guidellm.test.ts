/**
 * The real pinned guidellm, through the real CLI, against hub's simulator. Installs guidellm's
 * environment on first use (a few minutes; `.ci/run` does it up front).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getHarness } from "../../src/harness/registry.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { groundTruth, hub, readValidMetrics, tempOut, within } from "./helpers.ts";

// 100 ms, as `hub calibrate` uses: each harness adds a few ms of client time (README, Calibration).
const TTFT_MS = 100;
const ITL_MS = 10;

describe("guidellm end to end", () => {
  let sim: Simulator;
  beforeAll(async () => {
    const installed = await installHarness(getHarness("guidellm"));
    if (installed.kind === "failed") throw new Error(installed.reason);
    sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("hub run --profile sanity_concurrent against an external simulator matches its ground truth", async () => {
    const out = tempOut("guidellm");
    const r = await hub(["run", "--harness", "guidellm", "--profile", "sanity_concurrent", "--target", sim.url, "-o", "load.stages.0.duration_s=10", "--out", out, "--quiet"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("TTFT p50");

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "guidellm", version: "0.8.1" }, profile: "sanity_concurrent", target: sim.url, runtime: "local", exit_code: 0 });
    expect(m.stages).toHaveLength(1);
    const s = m.stages[0]!;
    expect(s.load).toMatchObject({ type: "concurrent", concurrency: 2 });

    const truth = groundTruth(sim.trace());
    // Tolerances: 10% of the configured latencies (the bar), and the simulator's own
    // measured p50 within 10% too, so a drifting simulator cannot hide a converter error.
    expect(within(truth.ttftP50, TTFT_MS, 0.1), `simulator TTFT p50 ${truth.ttftP50}`).toBe(true);
    expect(within(s.latency.ttft_ms.p50, TTFT_MS, 0.1), `TTFT p50 ${s.latency.ttft_ms.p50}`).toBe(true);
    expect(within(s.latency.itl_ms.p50, ITL_MS, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(within(s.latency.tpot_ms.p50, ITL_MS, 0.1), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);
    expect(s.latency.ttft_ms.provenance.source).toBe("recomputed");

    // Every request asked for 128 tokens and the simulator served exactly that.
    expect(s.tokens.output_per_request.min).toBe(128);
    expect(s.tokens.output_per_request.max).toBe(128);
    expect(new Set(truth.completionTokens)).toEqual(new Set([128]));
    // 10 s at 2 streams of ~1.3 s requests: about 15 requests; guidellm counts only its
    // measured window, so never more than the simulator served.
    expect(s.requests.successful).toBeGreaterThanOrEqual(8);
    expect(s.requests.successful).toBeLessThanOrEqual(truth.ok);
    expect(s.requests.failed).toBe(0);
    expect(s.failure_rate).toBe(0);
    // Throughput: 2 streams × 128 tokens per ~1.32 s request.
    expect(within(s.throughput.output_tokens_per_s, (2 * 128) / (TTFT_MS + 127 * ITL_MS) * 1000, 0.15), `out tok/s ${s.throughput.output_tokens_per_s}`).toBe(true);

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run).toMatchObject({ status: "ok", exit_code: 0, harness: { installed_version: "0.8.1" } });
    expect(run.commands[0].argv.join(" ")).toContain("guidellm");
    expect(existsSync(join(out, "native", "stdout.log"))).toBe(true);
  });

  it("hub run without --target uses the built-in simulator for the full 30 s profile", async () => {
    const out = tempOut("guidellm-default");
    const r = await hub(["run", "--harness", "guidellm", "--profile", "sanity_concurrent", "--out", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("built-in simulator");
    const m = readValidMetrics(out);
    const s = m.stages[0]!;
    expect(s.requests.successful).toBeGreaterThan(10);
    expect(existsSync(join(out, "sim-trace.jsonl"))).toBe(true);
  });
});
