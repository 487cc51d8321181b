/**
 * --parallel N on one machine: the profile's load split across N workers, each with its own seed
 * and output folder, their per-request records pooled into one exact result; uneven loads refused;
 * a failed worker fails the run (or is left out with keepPartial).
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.ts";
import type { HarnessDefinition } from "../../src/harness/contract.ts";
import { Metrics } from "../../src/metrics/schema.ts";
import { summarize } from "../../src/metrics/stats.ts";
import { runBenchmark } from "../../src/run/run.ts";
import { splitProfile } from "../../src/run/split.ts";
import { loadProfile } from "../../src/profile/load.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { directRuntime, fakeHarness, FAKE_BENCH } from "../fixtures/harness/fake.ts";

const out = () => join(mkdtempSync(join(tmpdir(), "hub-parallel-")), "run");
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8"));
const overrides = ["load.stages.0.duration_s=null", "load.stages.0.requests=6", "load.stages.0.concurrency=2", "data.output_tokens.mean=8"];

/** The fake harness, except that the worker with an odd seed exits 3 after writing its output. */
function oddSeedFails(): HarnessDefinition {
  const base = fakeHarness();
  return {
    ...base,
    translate(profile, ctx) {
      const stage = profile.load.stages[0]!;
      const exit = profile.data.seed % 2 === 1 ? "3" : "0";
      return { kind: "ok", invocations: [{ argv: [FAKE_BENCH, ctx.target, ctx.model, String(stage.requests), "8", join(ctx.outputDir, "out.json"), exit] }], warnings: [] };
    },
  };
}

describe("splitting the load", () => {
  it("divides streams, rates and request counts, and gives each worker its own seed", () => {
    const { profile } = loadProfile("sanity_concurrent", ["load.stages.0.concurrency=8", "load.stages.0.requests=40", "load.stages.0.duration_s=null"]);
    const workers = splitProfile(profile, 4);
    expect(workers.map((w) => w.profile.load.stages[0])).toEqual(Array(4).fill({ concurrency: 2, requests: 10 }));
    expect(workers.map((w) => w.seed)).toEqual([42, 43, 44, 45]);
    const rate = loadProfile("sanity_concurrent", ["load.type=constant", "load.stages.0.concurrency=null", "load.stages.0.rate=8"]).profile;
    expect(splitProfile(rate, 4)[0]!.profile.load.stages[0]!.rate).toBe(2);
  });

  it("refuses a load that does not split evenly, saying why", () => {
    const { profile } = loadProfile("sanity_concurrent", ["load.stages.0.concurrency=3"]);
    expect(() => splitProfile(profile, 2)).toThrow(UserError);
    expect(() => splitProfile(profile, 2)).toThrow(/load\.stages\.0\.concurrency = 3 does not split evenly over 2 workers/);
    const sync = loadProfile("sanity_concurrent", ["load.type=synchronous", "load.stages.0.concurrency=null"]).profile;
    expect(() => splitProfile(sync, 2)).toThrow(/one request at a time/);
  });
});

describe("runBenchmark --parallel 2 on the local runtime", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, ttftMs: 20, itlMs: 4, seed: 9 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("pools both workers' records into one exact result, with a per-worker breakdown", async () => {
    const dir = out();
    const before = sim.trace().length;
    const outcome = await runBenchmark({ harness: fakeHarness(), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: sim.url, out: dir, parallel: 2 }, {});
    expect(outcome.kind).toBe("ok");
    for (const w of [0, 1]) expect(existsSync(join(dir, "native", `worker-${w}`, "out.json"))).toBe(true);
    const metrics = Metrics.parse(readJson(join(dir, "metrics.json")));
    const stage = metrics.stages[0]!;
    expect(stage.requests.total).toBe(6);
    expect(sim.trace().length - before).toBe(6);
    expect(stage.load).toMatchObject({ concurrency: 2 });
    expect(stage.workers!.map((w) => [w.worker, w.seed, w.requests])).toEqual([[0, 42, 3], [1, 43, 3]]);
    // Exact pooling: the stage's TTFT distribution is the one of all six records together.
    const records = [0, 1].flatMap((w) => readJson(join(dir, "native", `worker-${w}`, "out.json")).requests as { start: number; tokens: number[] }[]);
    const pooled = summarize(records.map((r) => (r.tokens[0]! - r.start) * 1000));
    expect(stage.latency.ttft_ms.p50).toBeCloseTo(pooled.p50!, 9);
    expect(stage.latency.ttft_ms.p99).toBeCloseTo(pooled.p99!, 9);
    const run = readJson(join(dir, "run.json"));
    expect(run.parallel).toBe(2);
    expect(run.workers.map((w: { seed: number }) => w.seed)).toEqual([42, 43]);
    expect(run.commands.map((c: { worker: number }) => c.worker)).toEqual([0, 1]);
  });

  it("a failed worker fails the run, naming it; keepPartial merges the rest", async () => {
    const dir = out();
    const failed = await runBenchmark({ harness: oddSeedFails(), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: sim.url, out: dir, parallel: 2 }, {});
    expect(failed.kind).toBe("failed");
    if (failed.kind === "failed") expect(failed.reason).toMatch(/worker 1 failed: .*exited with code 3.*native\/worker-1/);
    expect(readJson(join(dir, "run.json")).status).toBe("failed");
    expect(existsSync(join(dir, "native", "worker-1", "stdout.log"))).toBe(true);

    const kept = await runBenchmark({ harness: oddSeedFails(), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: sim.url, out: out(), parallel: 2, keepPartial: true }, {});
    expect(kept.kind).toBe("ok");
    if (kept.kind === "ok") {
      expect(kept.warnings.join("\n")).toMatch(/worker 1 failed/);
      expect(kept.metrics.stages[0]!.requests.total).toBe(3);
      expect(kept.metrics.stages[0]!.workers!.map((w) => w.worker)).toEqual([0]);
    }
  });
});
