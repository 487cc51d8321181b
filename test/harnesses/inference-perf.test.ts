import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import harness from "../../harnesses/inference-perf/index.ts";
import type { TranslateContext, TranslateResult } from "../../src/harness/contract.ts";
import { missingFeatures } from "../../src/harness/features.ts";
import { builtinProfileNames, loadProfile } from "../../src/profile/load.ts";

const ctx: TranslateContext = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tok", outputDir: "/run/native" };

type Config = {
  api: { type: string; streaming: boolean };
  server: Record<string, unknown>;
  tokenizer: Record<string, unknown>;
  data: { type: string; input_distribution?: Record<string, number>; output_distribution?: Record<string, number>; shared_prefix?: Record<string, unknown> };
  load: { type: string; stages: Record<string, number>[]; num_workers: number; base_seed: number; worker_max_concurrency: number; interval: number };
  report: { request_lifecycle: Record<string, unknown>; prometheus: null };
  storage: { local_storage: { path: string } };
};

function ok(r: TranslateResult) {
  if (r.kind !== "ok") throw new Error(r.reason);
  expect(r.invocations).toHaveLength(1);
  const inv = r.invocations[0]!;
  const text = inv.files!["config.yml"]!;
  return { inv, text, config: parse(text) as Config, warnings: r.warnings };
}
const translate = (name: string, overrides: string[] = []) => harness.translate(loadProfile(name, overrides).profile, ctx);

describe("inference-perf adapter", () => {
  it("pins 0.7.0 from PyPI", () => {
    expect(harness.name).toBe("inference-perf");
    expect(harness.install).toEqual({ kind: "pip", distribution: "inference-perf", packages: ["inference-perf==0.7.0"], python: "3.12" });
  });

  it("writes sanity_random as one config file and one command", () => {
    const { inv, text, config, warnings } = ok(translate("sanity_random"));
    expect(warnings).toEqual([]);
    expect(inv.argv).toEqual(["inference-perf", "--config_file", "/run/native/config.yml"]);
    expect(inv.env).toEqual({ HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" });
    expect(text.split("\n")[0]).toBe("# harness-hub: config for inference-perf 0.7.0");
    expect(config).toEqual({
      api: { type: "completion", streaming: true },
      server: { type: "vllm", base_url: "http://127.0.0.1:8000", model_name: "hub-sim", ignore_eos: true },
      tokenizer: { pretrained_model_name_or_path: "/tok" },
      data: {
        type: "random",
        input_distribution: { mean: 384, std_dev: 10, min: 256, max: 512 },
        output_distribution: { mean: 50, std_dev: 10, min: 10, max: 100 },
      },
      load: { type: "constant", stages: [{ rate: 1, duration: 30 }], interval: 1, num_workers: 1, worker_max_concurrency: 1000, base_seed: 42 },
      report: {
        request_lifecycle: { summary: true, per_stage: true, per_request: true, per_request_fields: { request: false, response: false, response_chunks: false } },
        prometheus: null,
      },
      storage: { local_storage: { path: "/run/native/reports" } },
    });
  });

  it.each(["chatbot_synthetic", "code_completion_synthetic", "summarization_synthetic"])("writes %s as four constant stages", (name) => {
    const { profile } = loadProfile(name);
    const { config, warnings } = ok(harness.translate(profile, ctx));
    expect(warnings).toEqual([]);
    expect(config.load.stages).toEqual(profile.load.stages.map((s) => ({ rate: s.rate, duration: s.duration_s })));
    const d = profile.data;
    expect(config.data.input_distribution).toEqual({ mean: d.input_tokens!.mean, std_dev: d.input_tokens!.stddev, min: d.input_tokens!.min, max: d.input_tokens!.max });
    expect(config.data.output_distribution).toEqual({ mean: d.output_tokens!.mean, std_dev: d.output_tokens!.stddev, min: d.output_tokens!.min, max: d.output_tokens!.max });
  });

  it("writes random_concurrent as concurrent stages with fixed lengths bounded to the mean", () => {
    const { config, warnings } = ok(translate("random_concurrent"));
    expect(warnings).toEqual([]);
    expect(config.load.type).toBe("concurrent");
    expect(config.load.stages).toEqual([
      { concurrency_level: 1, num_requests: 32 },
      { concurrency_level: 2, num_requests: 64 },
      { concurrency_level: 4, num_requests: 128 },
      { concurrency_level: 8, num_requests: 256 },
    ]);
    // 0.7.0 would otherwise clip to its default [10, 1024] and reject mean 10000.
    expect(config.data.input_distribution).toEqual({ mean: 10000, std_dev: 0, min: 10000, max: 10000 });
    expect(config.data.output_distribution).toEqual({ mean: 1000, std_dev: 0, min: 1000, max: 1000 });
  });

  it("writes shared_prefix_synthetic with the profile's groups and seed", () => {
    const { config } = ok(translate("shared_prefix_synthetic"));
    expect(config.data).toEqual({
      type: "shared_prefix",
      shared_prefix: { num_groups: 32, num_prompts_per_group: 32, system_prompt_len: 2048, question_len: 256, output_len: 256, seed: 42 },
    });
    expect(config.load.stages.map((s) => s["rate"])).toEqual([2, 5, 8, 10, 12, 15, 20]);
  });

  it("refuses a concurrent stage bounded only by time (sanity_concurrent), naming the override that fixes it", () => {
    const r = translate("sanity_concurrent");
    expect(r).toMatchObject({ kind: "unsupported" });
    if (r.kind === "unsupported") expect(r.reason).toMatch(/never after a time.*load\.stages\.0\.requests=/);
    const fixed = ok(translate("sanity_concurrent", ["load.stages.0.requests=40", "load.stages.0.duration_s=null"]));
    expect(fixed.config.load.stages).toEqual([{ concurrency_level: 2, num_requests: 40 }]);
  });

  it("covers every shipped profile: translates it or refuses it", () => {
    const refused = builtinProfileNames().filter((n) => translate(n).kind !== "ok");
    expect(refused).toEqual(["sanity_concurrent"]);
  });

  it("runs synchronous load as a concurrent stage of one slot", () => {
    const { config } = ok(translate("sanity_concurrent", ["load.type=synchronous", "load.stages.0.concurrency=null", "load.stages.0.duration_s=null", "load.stages.0.requests=5"]));
    expect(config.load.type).toBe("concurrent");
    expect(config.load.stages).toEqual([{ concurrency_level: 1, num_requests: 5 }]);
  });

  it("warns when a concurrent stage also has a duration it cannot stop at", () => {
    const { warnings } = ok(translate("sanity_concurrent", ["load.stages.0.requests=40"]));
    expect(warnings.join("\n")).toMatch(/cannot stop a concurrent stage at duration_s/);
  });

  it("turns a request-bounded rate stage into whole seconds and says when the count changes", () => {
    const exact = ok(translate("sanity_random", ["load.stages.0.duration_s=null", "load.stages.0.requests=20", "load.stages.0.rate=4"]));
    expect(exact.config.load.stages).toEqual([{ rate: 4, duration: 5 }]);
    expect(exact.warnings).toEqual([]);
    const rounded = ok(translate("sanity_random", ["load.stages.0.duration_s=2.5"]));
    expect(rounded.config.load.stages).toEqual([{ rate: 1, duration: 3 }]);
    expect(rounded.warnings.join("\n")).toMatch(/whole-second durations: 2\.5 s sent as 3 s \(3 requests\)/);
  });

  it("refuses a rate stage that would send no request", () => {
    const r = translate("sanity_random", ["load.stages.0.rate=0.1", "load.stages.0.duration_s=5"]);
    expect(r).toMatchObject({ kind: "unsupported" });
  });

  it("cuts rate stages to limits.max_duration_s", () => {
    const { config, warnings } = ok(translate("chatbot_synthetic", ['limits={"max_duration_s":200}']));
    expect(config.load.stages).toEqual([
      { rate: 1, duration: 120 },
      { rate: 2, duration: 80 },
    ]);
    expect(warnings.join("\n")).toMatch(/stage 1 shortened from 120 s to 80 s[\s\S]*stages 2 to 3 dropped/);
  });

  it("caps each stage at limits.max_requests", () => {
    const { config } = ok(translate("random_concurrent", ['limits={"max_requests":50}']));
    expect(config.load.stages.map((s) => s["num_requests"])).toEqual([32, 50, 50, 50]);
  });

  it("keeps Poisson arrivals, non-streaming requests and the data seed", () => {
    const { config } = ok(translate("sanity_random", ["load.type=poisson", "api.streaming=false", "data.seed=7"]));
    expect(config.load.type).toBe("poisson");
    expect(config.api).toEqual({ type: "completion", streaming: false });
    expect(config.load.base_seed).toBe(7);
  });

  it("bounds a varying length the profile leaves unbounded", () => {
    const { config } = ok(translate("sanity_random", ["data.input_tokens.min=null", "data.input_tokens.max=null"]));
    expect(config.data.input_distribution).toEqual({ mean: 384, std_dev: 10, min: 1, max: 484 });
  });

  it("refuses what 0.7.0 cannot express", () => {
    const refuse = (overrides: string[], why: RegExp) => {
      const r = translate("sanity_random", overrides);
      expect(r).toMatchObject({ kind: "unsupported" });
      if (r.kind === "unsupported") expect(r.reason).toMatch(why);
    };
    refuse(["api.type=chat"], /only to \/v1\/completions/);
    refuse(["load.type=throughput", "load.stages.0.rate=null"], /no throughput load/);
    refuse(['limits={"max_error_rate":0.1}'], /error rate/);
  });

  it("declares no feature it refuses outright", () => {
    const chat = loadProfile("sanity_random", ["api.type=chat"]).profile;
    expect(missingFeatures(chat, harness.capabilities)).toEqual(["api.chat"]);
    const file = loadProfile("sanity_random", ["data.type=file", "data.path=/p.jsonl", "data.input_tokens=null"]).profile;
    expect(missingFeatures(file, harness.capabilities)).toEqual(["data.file"]);
    for (const f of ["load.throughput", "load.sweep", "limits.max_error_rate"] as const) expect(harness.capabilities).not.toContain(f);
  });
});
