import { describe, expect, it } from "vitest";
import harness from "../../harnesses/fmperf/index.ts";
import type { Invocation, TranslateContext, TranslateResult } from "../../src/harness/contract.ts";
import { missingFeatures } from "../../src/harness/features.ts";
import { builtinProfileNames, loadProfile } from "../../src/profile/load.ts";
import { installSource } from "../../src/runtime/python.ts";

const ctx: TranslateContext = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tok", outputDir: "/run/native" };

function ok(r: TranslateResult): { invocations: Invocation[]; warnings: string[] } {
  if (r.kind !== "ok") throw new Error(r.reason);
  return r;
}
const translate = (name: string, overrides: string[] = [], c: TranslateContext = ctx) => harness.translate(loadProfile(name, overrides).profile, c);
const refusal = (r: TranslateResult) => (r.kind === "unsupported" ? r.reason : "translated");

const COMMON = { TARGET: "vllm", URL: "127.0.0.1:8000", REQUESTS_DIR: "/run/native", REQUESTS_FILENAME: "requests.json", BACKOFF: "3s", GRACE_PERIOD: "10s" };

describe("fmperf adapter", () => {
  it("installs fmperf 0.0.1 only from a path, with its requirements pinned", () => {
    expect(harness.name).toBe("fmperf");
    expect(harness.version).toBe("0.0.1");
    expect(harness.install.distribution).toBe("fmperf");
    expect(installSource(harness)).toBe("path");
    expect(harness.install.packages).toContain("kubernetes==24.2.0");
    for (const p of harness.install.packages) expect(p, p).toMatch(/^[A-Za-z-]+==[\d.]+$/);
  });

  it("runs sanity_concurrent as setup, generate-input, then one run of 2 users for 30 s", () => {
    const { invocations, warnings } = ok(translate("sanity_concurrent"));
    expect(invocations).toHaveLength(3);
    const [setup, generate, run] = invocations;
    expect(setup!.argv).toEqual(["python", "hub_fmperf_setup.py", "http://127.0.0.1:8000", "hub-sim", "/tok"]);
    expect(setup!.files!["hub_fmperf_setup.py"]).toContain("os.symlink(tokenizer, first)");
    expect(generate).toEqual({
      argv: ["python", "-m", "fmperf.loadgen.generate-input"],
      env: {
        ...COMMON,
        SAMPLE_SIZE: "10",
        MIN_INPUT_TOKENS: "256",
        MAX_INPUT_TOKENS: "256",
        MIN_OUTPUT_TOKENS: "128",
        MAX_OUTPUT_TOKENS: "128",
        FRAC_GREEDY: "1.0",
        CODE: "false",
        OVERWRITE: "true",
      },
    });
    expect(run).toEqual({
      argv: ["python", "-m", "fmperf.loadgen.run"],
      env: { ...COMMON, NUM_USERS: "2", DURATION: "30s", RESULTS_FILENAME: "results_stage0.json" },
      stage: 0,
    });
    expect(warnings.join("\n")).toMatch(/last N tokens of one seed text/);
    expect(warnings.join("\n")).toMatch(/10 distinct requests/);
  });

  it("runs stages of one duration and different user counts as one sweep", () => {
    const { invocations } = ok(translate("sanity_concurrent", ['load.stages=[{"concurrency":1,"duration_s":5},{"concurrency":2,"duration_s":5},{"concurrency":4,"duration_s":5}]']));
    expect(invocations).toHaveLength(3);
    expect(invocations[2]).toEqual({
      argv: ["python", "-m", "fmperf.loadgen.sweep"],
      env: { ...COMMON, SWEEP_USERS: "1,2,4", DURATION: "5s", RESULTS_ALL_FILENAME: "results_all.json" },
    });
  });

  it("runs stages that differ in duration, or repeat a user count, one run each", () => {
    for (const stages of ['[{"concurrency":1,"duration_s":5},{"concurrency":2,"duration_s":8}]', '[{"concurrency":2,"duration_s":5},{"concurrency":2,"duration_s":5}]']) {
      const runs = ok(translate("sanity_concurrent", [`load.stages=${stages}`])).invocations.slice(2);
      expect(runs.map((r) => [r.argv.at(-1), r.stage, r.env!.NUM_USERS, r.env!.DURATION, r.env!.RESULTS_FILENAME])).toEqual(
        JSON.parse(stages).map((s: { concurrency: number; duration_s: number }, i: number) => ["fmperf.loadgen.run", i, String(s.concurrency), `${s.duration_s}s`, `results_stage${i}.json`]),
      );
    }
  });

  it("runs synchronous load as one user", () => {
    const { invocations } = ok(translate("sanity_concurrent", ["load.type=synchronous", "load.stages.0.concurrency=null"]));
    expect(invocations[2]!.env!.NUM_USERS).toBe("1");
  });

  it("draws varying lengths uniformly over [min, max], or mean ± √3·stddev, and says so", () => {
    const a = ok(translate("sanity_concurrent", ['data.input_tokens={"mean":100,"stddev":20,"min":50,"max":150}']));
    expect(a.invocations[1]!.env).toMatchObject({ MIN_INPUT_TOKENS: "50", MAX_INPUT_TOKENS: "150", MIN_OUTPUT_TOKENS: "128", MAX_OUTPUT_TOKENS: "128" });
    expect(a.warnings.join("\n")).toMatch(/input lengths uniformly from \[50, 150\]/);
    const b = ok(translate("sanity_concurrent", ['data.output_tokens={"mean":100,"stddev":10}']));
    expect(b.invocations[1]!.env).toMatchObject({ MIN_OUTPUT_TOKENS: "83", MAX_OUTPUT_TOKENS: "117" });
  });

  it("sends whole seconds, caps stages at limits.max_duration_s and says what it changed", () => {
    const r = ok(translate("sanity_concurrent", ["load.stages.0.duration_s=2.4"]));
    expect(r.invocations[2]!.env!.DURATION).toBe("2s");
    expect(r.warnings.join("\n")).toMatch(/duration 2\.4 s sent as 2 s/);
    const capped = ok(translate("sanity_concurrent", ['limits={"max_duration_s":10}']));
    expect(capped.invocations[2]!.env!.DURATION).toBe("10s");
  });

  it("says that fmperf ignores the profile's seed", () => {
    expect(ok(translate("sanity_concurrent")).warnings.join("\n")).not.toMatch(/data\.seed/);
    expect(ok(translate("sanity_concurrent", ["data.seed=7"])).warnings.join("\n")).toMatch(/always seeds with 42: data\.seed 7 is not used/);
  });

  it("refuses what fmperf cannot do, saying why", () => {
    expect(refusal(translate("sanity_concurrent", ["api.type=chat"]))).toMatch(/only \/v1\/completions/);
    expect(refusal(translate("sanity_concurrent", ["api.streaming=false"]))).toMatch(/only streams/);
    expect(refusal(translate("sanity_random"))).toMatch(/closed-loop users only.*constant/);
    expect(refusal(translate("shared_prefix_synthetic"))).toMatch(/cannot send shared_prefix data/);
    expect(refusal(translate("random_concurrent"))).toMatch(/stage 0: .*by time only/);
    expect(refusal(translate("sanity_concurrent", ['limits={"max_requests":5}']))).toMatch(/limits\.max_requests/);
    expect(refusal(translate("sanity_concurrent", [], { ...ctx, target: "https://example.test" }))).toMatch(/plain http only/);
  });

  it("passes a target's path prefix on, without the scheme", () => {
    const r = ok(translate("sanity_concurrent", [], { ...ctx, target: "http://127.0.0.1:9000/prefix" }));
    expect(r.invocations[1]!.env!.URL).toBe("127.0.0.1:9000/prefix");
  });

  it("covers every shipped profile: translates it or refuses it, and declares what it translates", () => {
    const results = builtinProfileNames().map((n) => [n, translate(n).kind] as const);
    expect(results.filter(([, k]) => k === "ok").map(([n]) => n)).toEqual(["sanity_concurrent"]);
    for (const [name] of results.filter(([, k]) => k === "ok")) expect(missingFeatures(loadProfile(name).profile, harness.capabilities)).toEqual([]);
  });
});
