/**
 * The same workload through every harness hub ships a converter for, against the same simulator
 * setting: their normalised TTFT p50 and ITL p50 must agree with each other and with the
 * simulator. This is what hub promises: one set of definitions, whichever harness measured.
 *
 * sanity_concurrent, shortened and bounded by requests (20 at 2 streams, about 15 s per harness),
 * since inference-perf and vllm bench serve end a closed-loop stage only after a request count.
 * Each harness gets a fresh simulator with the same seed. Installs the harness environments on
 * first use (`.ci/run` does it up front).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { truthFromTrace, type Observation } from "../../src/calibrate/truth.ts";
import { allHarnesses, getHarness } from "../../src/harness/registry.ts";
import type { Stage } from "../../src/metrics/schema.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { hub, readValidMetrics, tempOut, within } from "./helpers.ts";

const HARNESSES = ["guidellm", "inference-perf", "vllm-benchmark"];
/** A harness not yet in the registry (harnesses/index.ts) is reported skipped, by name, never dropped silently. */
const registered = (name: string) => allHarnesses().some((h) => h.name === name);
const RUNNABLE = HARNESSES.filter(registered);
/** Not the simulator's default 50 ms: a harness's few ms of client overhead do not scale with TTFT (README, Calibration). */
const TTFT_MS = 100;
const ITL_MS = 10;
/** The bar, for agreement with the simulator and between harnesses alike. */
const TOL = 0.1;
const REQUESTS = 20;

describe("every harness agrees with the simulator and with each other", () => {
  const results = new Map<string, { stage: Stage; truth: Observation }>();
  let sim: Simulator | undefined;

  beforeAll(async () => {
    for (const name of RUNNABLE) {
      const installed = await installHarness(getHarness(name));
      if (installed.kind === "failed") throw new Error(`${name}: ${installed.reason}`);
    }
  });
  afterAll(async () => {
    await sim?.close();
  });

  for (const name of HARNESSES) {
    it.skipIf(!registered(name))(`${name}: sanity_concurrent (${REQUESTS} requests at 2 streams) matches the simulator`, { timeout: 300_000 }, async () => {
      sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
      try {
        const out = tempOut(`cross-${name}`);
        const r = await hub([
          "run", "--harness", name, "--profile", "sanity_concurrent", "--target", sim.url,
          "-o", "load.stages.0.duration_s=null", "-o", `load.stages.0.requests=${REQUESTS}`, "--out", out, "--quiet",
        ]);
        expect(r.exitCode, r.stderr).toBe(0);
        const m = readValidMetrics(out);
        expect(m.run.harness.name).toBe(name);
        expect(m.stages).toHaveLength(1);
        const stage = m.stages[0]!;
        const truth = truthFromTrace(sim.trace());
        results.set(name, { stage, truth });

        expect(stage.load).toMatchObject({ type: "concurrent", concurrency: 2 });
        expect(stage.requests.failed).toBe(0);
        // Every request the harness counted, the simulator served, 128 tokens each.
        expect(stage.requests.successful).toBeGreaterThanOrEqual(REQUESTS - 2);
        expect(stage.requests.successful).toBeLessThanOrEqual(truth.requests.successful);
        expect(stage.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });
        for (const [key, set] of [["ttft_ms", TTFT_MS], ["itl_ms", ITL_MS]] as const) {
          const p50 = stage.latency[key].p50;
          expect(within(p50, set, TOL), `${name} ${key} p50 ${p50} vs set ${set}`).toBe(true);
          expect(within(p50, truth.latency[key].p50!, TOL), `${name} ${key} p50 ${p50} vs trace ${truth.latency[key].p50}`).toBe(true);
        }
      } finally {
        await sim.close();
        sim = undefined;
      }
    });
  }

  it("their normalised TTFT p50 and ITL p50 agree pairwise within 10% of the set latency", () => {
    const missing = RUNNABLE.filter((h) => !results.has(h));
    expect(missing, "harnesses whose run failed above").toEqual([]);
    expect(RUNNABLE.length).toBeGreaterThanOrEqual(2);
    for (const [key, set] of [["ttft_ms", TTFT_MS], ["itl_ms", ITL_MS]] as const) {
      const p50s = RUNNABLE.map((h) => [h, results.get(h)!.stage.latency[key].p50!] as const);
      for (const [a, x] of p50s) {
        for (const [b, y] of p50s) {
          if (a < b) expect(Math.abs(x - y), `${key} p50: ${a} ${x.toFixed(2)} vs ${b} ${y.toFixed(2)}`).toBeLessThanOrEqual(set * TOL);
        }
      }
    }
  });
});
