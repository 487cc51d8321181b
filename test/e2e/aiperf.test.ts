/**
 * The real pinned aiperf, through the real CLI, against hub's simulator. Installs aiperf's
 * environment on first use (a few minutes; `.ci/run` does it up front). aiperf itself takes 25 to
 * 45 s to start on a 2-core machine.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import aiperf from "../../harnesses/aiperf/index.ts";
import { builtinNames } from "../../src/harness/registry.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { groundTruth, hub, readValidMetrics, tempOut, within } from "./helpers.ts";

const TTFT_MS = 50;
const ITL_MS = 10;
/** Until harnesses/index.ts lists aiperf, the CLI loads the same folder as a plugin. */
const PLUGIN = builtinNames().has("aiperf") ? [] : ["--plugin", fileURLToPath(new URL("../../harnesses/aiperf", import.meta.url))];

describe("aiperf end to end", () => {
  let sim: Simulator;
  beforeAll(async () => {
    const installed = await installHarness(aiperf);
    if (installed.kind === "failed") throw new Error(installed.reason);
    sim = await startSimulator({ port: 0, ttftMs: TTFT_MS, itlMs: ITL_MS, seed: 7 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("hub run --profile sanity_concurrent against an external simulator matches its ground truth", async () => {
    const out = tempOut("aiperf");
    const r = await hub([...PLUGIN, "run", "--harness", "aiperf", "--profile", "sanity_concurrent", "--target", sim.url, "-o", "load.stages.0.duration_s=10", "--out", out, "--quiet"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("TTFT p50");

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "aiperf", version: "0.13.0" }, profile: "sanity_concurrent", target: sim.url, runtime: "local", exit_code: 0 });
    expect(m.stages).toHaveLength(1);
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });

    const truth = groundTruth(sim.trace());
    expect(within(truth.ttftP50, TTFT_MS, 0.1), `simulator TTFT p50 ${truth.ttftP50}`).toBe(true);
    expect(within(s.latency.ttft_ms.p50, TTFT_MS, 0.1), `TTFT p50 ${s.latency.ttft_ms.p50} (simulator ${truth.ttftP50})`).toBe(true);
    expect(within(s.latency.itl_ms.p50, ITL_MS, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(within(s.latency.tpot_ms.p50, ITL_MS, 0.1), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);
    for (const d of Object.values(s.latency)) expect(d.provenance.source).toBe("recomputed");
    expect(s.latency.itl_ms.provenance.native_field).toMatch(/inter_chunk_latency/);

    // Exactly 128 tokens per request, as the server counted them.
    expect(s.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });
    expect(s.tokens.input_per_request).toMatchObject({ min: 256, max: 256 });
    expect(new Set(truth.completionTokens)).toEqual(new Set([128]));
    // 10 s at 2 streams of ~1.33 s requests, in-flight ones finished in the grace period.
    expect(s.requests.successful).toBeGreaterThanOrEqual(10);
    expect(s.requests.successful).toBe(truth.ok);
    expect(s.failure_rate).toBe(0);

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run).toMatchObject({ status: "ok", exit_code: 0, harness: { installed_version: "0.13.0" } });
    expect(run.commands).toHaveLength(1);
    expect(run.commands[0]).toMatchObject({ stage: 0, env: { HF_HUB_OFFLINE: "", TRANSFORMERS_OFFLINE: "" } });
    expect(existsSync(join(out, "native", "stage_0", "profile_export.jsonl"))).toBe(true);
  }, 300_000);

  it("hub run --harness aiperf --profile sanity_concurrent, as shipped, on the built-in simulator", async () => {
    const out = tempOut("aiperf-default");
    const r = await hub([...PLUGIN, "run", "--harness", "aiperf", "--profile", "sanity_concurrent", "--out", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("built-in simulator");
    const s = readValidMetrics(out).stages[0]!;
    expect(s.requests.successful).toBeGreaterThan(30);
    expect(s.requests.failed).toBe(0);
    expect(within(s.latency.itl_ms.p50, 10, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(existsSync(join(out, "sim-trace.jsonl"))).toBe(true);
  }, 300_000);
});
