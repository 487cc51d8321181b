/**
 * The real pinned genai-bench, through the real CLI, against hub's simulator. Installs its
 * environment on first use (a few minutes; `.ci/run` does it up front). genai-bench sends chat
 * requests only, so the completions profile runs with -o api.type=chat.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import genaiBench from "../../harnesses/genai-bench/index.ts";
import { builtinNames } from "../../src/harness/registry.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { groundTruth, hub, readValidMetrics, tempOut, within } from "./helpers.ts";

const TTFT_MS = 50;
const ITL_MS = 10;
/** Until harnesses/index.ts lists genai-bench, the CLI loads the same folder as a plugin. */
const PLUGIN = builtinNames().has("genai-bench") ? [] : ["--plugin", fileURLToPath(new URL("../../harnesses/genai-bench", import.meta.url))];

describe("genai-bench end to end", () => {
  let sim: Simulator;
  beforeAll(async () => {
    const installed = await installHarness(genaiBench);
    if (installed.kind === "failed") throw new Error(installed.reason);
    sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("refuses the completions profile as shipped, before anything runs, naming the override", async () => {
    const r = await hub([...PLUGIN, "run", "--harness", "genai-bench", "--profile", "sanity_concurrent", "--target", sim.url, "--out", tempOut("genai-bench-refused")]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/harness genai-bench cannot express profile sanity_concurrent: it does not support api\.completion/);
    expect(sim.trace()).toHaveLength(0);
  }, 300_000);

  it("hub run --profile sanity_concurrent -o api.type=chat, 16 requests, matches the simulator's ground truth", async () => {
    const out = tempOut("genai-bench");
    const r = await hub([
      ...PLUGIN,
      "run",
      "--harness",
      "genai-bench",
      "--profile",
      "sanity_concurrent",
      "--target",
      sim.url,
      "-o",
      "api.type=chat",
      "-o",
      "load.stages.0.duration_s=null",
      "-o",
      "load.stages.0.requests=16",
      "--out",
      out,
      "--quiet",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("TTFT p50");

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "genai-bench", version: "0.0.5" }, profile: "sanity_concurrent", target: sim.url, runtime: "local", exit_code: 0 });
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });

    const trace = sim.trace();
    const truth = groundTruth(trace);
    expect(within(truth.ttftP50, TTFT_MS, 0.1), `simulator TTFT p50 ${truth.ttftP50}`).toBe(true);
    // genai-bench's own TTFT runs 5 to 15 ms over the simulator's at concurrency 2 on a 2-core
    // machine: its clock starts before requests.post opens a new connection, in the one gevent
    // thread that is also parsing the other stream's chunks (measured against the trace: the
    // request reaches the server 2 to 25 ms after genai-bench stamps its start; first tokens are
    // read within 1 ms). hub has no clock times from genai-bench to correct that with, so the bar
    // here is hub reproducing genai-bench's own figure exactly, and that figure within 30%.
    expect(s.latency.ttft_ms.p50).toBeGreaterThanOrEqual(truth.ttftP50);
    expect(within(s.latency.ttft_ms.p50, TTFT_MS, 0.3), `TTFT p50 ${s.latency.ttft_ms.p50} (simulator ${truth.ttftP50})`).toBe(true);
    const native = JSON.parse(readFileSync(join(out, "native", "genai-bench", readdirSync(join(out, "native", "genai-bench")).find((f) => f.includes("_num_concurrency_2_"))!), "utf8"));
    expect(s.latency.ttft_ms.p50).toBeCloseTo(native.aggregated_metrics.stats.ttft.p50 * 1000, 6);
    expect(within(s.latency.itl_ms.p50, ITL_MS, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(within(s.latency.tpot_ms.p50, ITL_MS, 0.1), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);
    expect(s.latency.ttft_ms.provenance.source).toBe("recomputed");

    expect(s.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });
    // It stops after the second whose check finds 16 finished; requests in flight are aborted, not counted.
    expect(s.requests.successful).toBeGreaterThanOrEqual(16);
    expect(s.requests.successful).toBe(truth.ok);
    expect(trace.filter((t) => t.status !== "ok" && t.status !== "aborted")).toEqual([]);
    expect(s.failure_rate).toBe(0);

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run).toMatchObject({ status: "ok", exit_code: 0, harness: { installed_version: "0.0.5" } });
    expect(run.commands[0].env).toEqual({ ENABLE_UI: "false" });
    expect(run.warnings.join("\n")).toMatch(/checks its request bound once a second/);
    expect(existsSync(join(out, "native", "genai-bench", "experiment_metadata.json"))).toBe(true);
  }, 300_000);
});
