/**
 * The real pinned inference-perf (0.7.0), through the real CLI, against hub's simulator. Installs
 * its environment on first use (about a minute; `.ci/run` does it up front).
 *
 * Tolerances: the 10% on TTFT, ITL and TPOT p50, against both the latencies the simulator
 * was set to and its own trace (so a drifting simulator cannot hide a converter error); token
 * counts exact, since inference-perf takes the server's usage count and tokenizes prompts with the
 * simulator's own Qwen3 tokenizer.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { readTrace } from "../../src/calibrate/run.ts";
import { truthFromTrace, type Observation } from "../../src/calibrate/truth.ts";
import { getHarness } from "../../src/harness/registry.ts";
import type { Stage } from "../../src/metrics/schema.ts";
import { summarize } from "../../src/metrics/stats.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator, type TraceRecord } from "../../src/sim/index.ts";
import { hub, readValidMetrics, tempOut, within } from "./helpers.ts";

/** Not the simulator's default 50 ms: a harness's few ms of client overhead do not scale with TTFT (README, Calibration). */
const TTFT_MS = 100;
const ITL_MS = 10;
const TOL = 0.1;

/** TTFT, ITL and TPOT p50 within TOL of the set latencies and of the trace; every distribution recomputed. */
function expectLatencies(s: Stage, truth: Observation): void {
  for (const [key, set] of [["ttft_ms", TTFT_MS], ["itl_ms", ITL_MS], ["tpot_ms", ITL_MS]] as const) {
    const p50 = s.latency[key].p50;
    expect(within(truth.latency[key].p50, set, TOL), `simulator ${key} p50 ${truth.latency[key].p50}`).toBe(true);
    expect(within(p50, set, TOL), `${key} p50 ${p50} vs set ${set}`).toBe(true);
    expect(within(p50, truth.latency[key].p50!, TOL), `${key} p50 ${p50} vs trace ${truth.latency[key].p50}`).toBe(true);
    expect(s.latency[key].provenance.source).toBe("recomputed");
  }
  expect(s.latency.e2e_ms.provenance.source).toBe("recomputed");
  expect(s.latency.ntpot_ms.provenance.source).toBe("recomputed");
}

/** Token counts per request equal the simulator's, prompt and output. */
function expectTokens(s: Stage, trace: readonly TraceRecord[]): void {
  const ok = trace.filter((t) => t.status === "ok");
  const out = summarize(ok.map((t) => t.completion_tokens));
  const inp = summarize(ok.map((t) => t.prompt_tokens!));
  expect(s.requests.successful).toBe(ok.length);
  expect(s.requests.failed).toBe(0);
  expect(s.failure_rate).toBe(0);
  for (const [mine, truth] of [[s.tokens.output_per_request, out], [s.tokens.input_per_request, inp]] as const) {
    expect(mine.count).toBe(truth.count);
    expect(mine.min).toBe(truth.min);
    expect(mine.max).toBe(truth.max);
    expect(mine.mean).toBeCloseTo(truth.mean!, 9);
  }
}

describe("inference-perf end to end", () => {
  let sim: Simulator | undefined;
  beforeAll(async () => {
    const installed = await installHarness(getHarness("inference-perf"));
    if (installed.kind === "failed") throw new Error(installed.reason);
  });
  afterEach(async () => {
    await sim?.close();
    sim = undefined;
  });

  it("sanity_concurrent bounded by 20 requests, against an external simulator, matches its ground truth", { timeout: 240_000 }, async () => {
    sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
    const out = tempOut("inference-perf");
    const r = await hub([
      "run", "--harness", "inference-perf", "--profile", "sanity_concurrent", "--target", sim.url,
      "-o", "load.stages.0.duration_s=null", "-o", "load.stages.0.requests=20", "--out", out, "--quiet",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("TTFT p50");

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "inference-perf", version: "0.7.0" }, profile: "sanity_concurrent", target: sim.url, runtime: "local", exit_code: 0 });
    expect(m.stages).toHaveLength(1);
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });
    expect(s.requests).toEqual({ total: 20, successful: 20, failed: 0, incomplete: 0 });

    const trace = sim.trace();
    const truth = truthFromTrace(trace);
    expectLatencies(s, truth);
    expectTokens(s, trace);
    expect(s.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });
    // Throughput: same requests, windows within a client's overhead of the server's.
    expect(within(s.throughput.output_tokens_per_s, truth.output_tokens_per_s!, TOL), `out tok/s ${s.throughput.output_tokens_per_s} vs ${truth.output_tokens_per_s}`).toBe(true);

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run).toMatchObject({ status: "ok", exit_code: 0, harness: { installed_version: "0.7.0" } });
    expect(run.commands[0].argv.join(" ")).toContain("inference-perf --config_file");
    expect(existsSync(join(out, "native", "config.yml"))).toBe(true);
  });

  it("hub run --profile sanity_random with the built-in simulator: the full 30 s profile, checked against its sim-trace.jsonl", { timeout: 240_000 }, async () => {
    const out = tempOut("inference-perf-random");
    const r = await hub(["run", "--harness", "inference-perf", "--profile", "sanity_random", "--sim-ttft-ms", String(TTFT_MS), "--sim-itl-ms", String(ITL_MS), "--out", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("built-in simulator");

    const m = readValidMetrics(out);
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "constant", rate: 1 });
    // inference-perf sends int(rate x duration) = 30 requests, on schedule.
    expect(s.requests.successful).toBe(30);
    expect(within(s.throughput.requests_per_s, 1, TOL), `req/s ${s.throughput.requests_per_s}`).toBe(true);

    const trace = readTrace(join(out, "sim-trace.jsonl"));
    expectLatencies(s, truthFromTrace(trace));
    expectTokens(s, trace);
    // Variable lengths: output 50 ± 10 in [10, 100], input 384 ± 10 in [256, 512].
    expect(s.tokens.output_per_request.min).toBeGreaterThanOrEqual(10);
    expect(s.tokens.output_per_request.max).toBeLessThanOrEqual(100);
    expect(s.tokens.output_per_request.min).toBeLessThan(s.tokens.output_per_request.max!);
    expect(s.tokens.input_per_request.min).toBeGreaterThanOrEqual(256);
  });

  it("refuses sanity_concurrent as written (bounded by time) with exit 2 and says how to bound it by requests", { timeout: 60_000 }, async () => {
    const out = tempOut("inference-perf-refused");
    const r = await hub(["run", "--harness", "inference-perf", "--profile", "sanity_concurrent", "--out", out]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("load.stages.0.requests=");
    expect(existsSync(join(out, "metrics.json"))).toBe(false);
  });
});
