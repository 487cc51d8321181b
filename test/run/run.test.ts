import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.ts";
import { Metrics } from "../../src/metrics/schema.ts";
import type { Reporter } from "../../src/report/reporter.ts";
import { runBenchmark } from "../../src/run/run.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { directRuntime, fakeHarness, FAKE_BENCH } from "../fixtures/harness/fake.ts";

const out = () => join(mkdtempSync(join(tmpdir(), "hub-run-")), "run");
const quiet: Reporter = {};
const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8"));
const overrides = ["load.stages.0.duration_s=null", "load.stages.0.requests=3", "data.output_tokens.mean=8"];

describe("runBenchmark with a fake harness", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0, ttftMs: 20, itlMs: 5, seed: 1 });
  });
  afterAll(async () => {
    await sim.close();
  });

  it("runs profile → adapter → runtime → converter → metrics and writes the results layout", async () => {
    const dir = out();
    const events: string[] = [];
    const outcome = await runBenchmark(
      { harness: fakeHarness(), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: sim.url, out: dir },
      { onRunStart: () => events.push("start"), onHarnessOutput: (_s, l) => events.push(l), onRunEnd: (o) => events.push(`end:${o.kind}`) },
    );
    expect(outcome.kind).toBe("ok");
    for (const f of ["profile.resolved.yaml", "run.json", "metrics.json", "native/stdout.log", "native/stderr.log", "native/fake-config.txt", "native/out.json"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    const metrics = Metrics.parse(readJson(join(dir, "metrics.json")));
    expect(metrics.run).toMatchObject({ harness: { name: "fake", version: "1.0" }, profile: "sanity_concurrent", target: sim.url, model: "hub-sim", exit_code: 0 });
    expect(metrics.stages[0]!.requests.successful).toBe(3);
    expect(metrics.stages[0]!.latency.ttft_ms.p50).toBeGreaterThanOrEqual(20);
    // In milliseconds, not seconds; timing precision is the end-to-end tests' business.
    expect(metrics.stages[0]!.latency.ttft_ms.p50).toBeLessThan(500);
    const run = readJson(join(dir, "run.json"));
    expect(run).toMatchObject({ status: "ok", exit_code: 0, model: "hub-sim", warnings: ["fake harness ignores the input lengths"] });
    expect(run.commands[0].argv[0]).toBe(FAKE_BENCH);
    expect(events).toEqual(["start", "request 1/3 done", "request 2/3 done", "request 3/3 done", "end:ok"]);
  });

  it("a harness that exits non-zero keeps its output and logs, and run.json records the exit code", async () => {
    const dir = out();
    const outcome = await runBenchmark({ harness: fakeHarness({ exitCode: 3 }), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: sim.url, out: dir }, quiet);
    expect(outcome).toMatchObject({ kind: "failed", exitCode: 3 });
    const run = readJson(join(dir, "run.json"));
    expect(run).toMatchObject({ status: "failed", exit_code: 3 });
    expect(run.error).toContain("exited with code 3");
    expect(readFileSync(join(dir, "native/stdout.log"), "utf8")).toContain("request 3/3 done");
    // What the harness wrote before failing is still converted.
    expect(existsSync(join(dir, "metrics.json"))).toBe(true);
  });

  it("an unreachable target fails fast, before the harness starts, and still leaves run.json", async () => {
    const dir = out();
    const started = Date.now();
    await expect(
      runBenchmark({ harness: fakeHarness(), runtime: directRuntime, profile: "sanity_concurrent", overrides, target: "http://127.0.0.1:9", out: dir }, quiet),
    ).rejects.toThrow(/not reachable/);
    expect(Date.now() - started).toBeLessThan(5000);
    const run = readJson(join(dir, "run.json"));
    expect(run.status).toBe("failed");
    expect(run.commands).toEqual([]);
  });

  it("refuses a profile feature the harness cannot express, naming it, before anything runs", async () => {
    const dir = out();
    const e = await runBenchmark({ harness: fakeHarness(), runtime: directRuntime, profile: "sanity_random", target: sim.url, out: dir }, quiet).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/load\.constant/);
    expect(existsSync(dir)).toBe(false);
  });

  it("an interrupted run stops the harness, keeps what it has and says interrupted", async () => {
    const dir = out();
    const abort = new AbortController();
    const outcome = await runBenchmark(
      {
        harness: fakeHarness({ argv: [process.execPath, "-e", "console.log('working'); setInterval(() => {}, 1000)"] }),
        runtime: directRuntime,
        profile: "sanity_concurrent",
        overrides,
        target: sim.url,
        out: dir,
        signal: abort.signal,
      },
      { onHarnessOutput: () => abort.abort() },
    );
    expect(outcome.kind).toBe("interrupted");
    expect(readJson(join(dir, "run.json")).status).toBe("interrupted");
    expect(readFileSync(join(dir, "native/stdout.log"), "utf8")).toContain("working");
  });

  it("without --target starts the simulator and writes its ground truth", async () => {
    const dir = out();
    const outcome = await runBenchmark({ harness: fakeHarness(), runtime: directRuntime, profile: "sanity_concurrent", overrides, out: dir }, quiet);
    expect(outcome.kind).toBe("ok");
    const run = readJson(join(dir, "run.json"));
    expect(run.target_is_simulator).toBe(true);
    const trace = readFileSync(join(dir, "sim-trace.jsonl"), "utf8").trim().split("\n");
    expect(trace).toHaveLength(3);
  });
});
