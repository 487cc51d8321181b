/**
 * The --parallel 2 end-to-end checks shared by the local (parallel.test.ts) and Kubernetes
 * (kubernetes.test.ts) runs: two load generators, one merged result whose request count equals
 * the simulator's trace and the sum of the workers', pooled TTFT and ITL p50 within 10% of the trace's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { groundTruth, hub, readValidMetrics, tempOut, within } from "./helpers.ts";

export const PARALLEL_CASES = [
  // sanity_random: a constant 1 request/s, shortened; each worker offers 0.5/s.
  { harness: "inference-perf", profile: "sanity_random", overrides: ["load.stages.0.duration_s=12"] },
  // Closed loop: 2 streams, 1 per worker, 16 requests, 8 per worker.
  { harness: "aiperf", profile: "sanity_concurrent", overrides: ["load.stages.0.duration_s=null", "load.stages.0.requests=16", "data.output_tokens.mean=64"] },
] as const;

/** Runs one case against a fresh simulator and checks the merged result against its trace. */
export async function checkParallelRun(c: (typeof PARALLEL_CASES)[number], extraArgs: string[], run: (args: string[]) => Promise<{ exitCode?: number; stderr: string }> = hub) {
  const sim: Simulator = await startSimulator({ port: 0, ttftMs: 100, itlMs: 10, seed: 11 });
  try {
    const out = tempOut(`parallel-${c.harness}`);
    const r = await run(["run", "--harness", c.harness, "--profile", c.profile, "--target", sim.url, "--parallel", "2", ...c.overrides.flatMap((o) => ["-o", o]), "--out", out, "--quiet", ...extraArgs]);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = readValidMetrics(out);
    const s = m.stages[0]!;
    const trace = sim.trace();
    const truth = groundTruth(trace);
    expect(s.requests.total).toBe(trace.length);
    expect(s.requests.successful).toBe(truth.ok);
    expect(s.workers).toHaveLength(2);
    expect(s.workers!.reduce((a, w) => a + w.requests, 0)).toBe(s.requests.total);
    expect(s.workers!.every((w) => w.requests > 0)).toBe(true);
    expect(within(s.latency.ttft_ms.p50, truth.ttftP50, 0.1), `TTFT p50 ${s.latency.ttft_ms.p50} vs trace ${truth.ttftP50}`).toBe(true);
    expect(within(s.latency.itl_ms.p50, truth.itlP50, 0.1), `ITL p50 ${s.latency.itl_ms.p50} vs trace ${truth.itlP50}`).toBe(true);
    const record = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(record.parallel).toBe(2);
    expect(new Set(record.workers.map((w: { seed: number }) => w.seed)).size).toBe(2);
    return { out, metrics: m, record };
  } finally {
    await sim.close();
  }
}

