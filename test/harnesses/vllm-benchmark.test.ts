import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import harness from "../../harnesses/vllm-benchmark/index.ts";
import type { Invocation, TranslateResult } from "../../src/harness/contract.ts";
import { missingFeatures } from "../../src/harness/features.ts";
import { Profile, type ProfileInput } from "../../src/profile/schema.ts";

const ctx = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tok", outputDir: "/runs/r1/native" };
const PROFILES = join(import.meta.dirname, "../../profiles");

const shipped = (name: string) => Profile.parse(parse(readFileSync(join(PROFILES, `${name}.yaml`), "utf8")));
const profile = (p: Partial<ProfileInput> & Pick<ProfileInput, "load" | "data">) => Profile.parse({ name: "t", ...p });
const random = { type: "random", input_tokens: { mean: 32 }, output_tokens: { mean: 8 } } as const;

function ok(r: TranslateResult): { invocations: Invocation[]; warnings: string[] } {
  if (r.kind !== "ok") throw new Error(`unsupported: ${r.reason}`);
  return r;
}
const only = (r: TranslateResult) => {
  const { invocations } = ok(r);
  expect(invocations).toHaveLength(1);
  return invocations[0]!.argv;
};
/** The value after --name, or true for a bare flag; undefined when absent. */
function flag(argv: string[], name: string): string | true | undefined {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const next = argv[i + 1];
  return next === undefined || next.startsWith("--") ? true : next;
}

describe("vllm-benchmark adapter", () => {
  it("translates sanity_concurrent to this exact command line", () => {
    const r = ok(harness.translate(shipped("sanity_concurrent"), ctx));
    expect(r.invocations).toEqual([
      {
        stage: 0,
        env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" },
        argv: [
          "vllm", "bench", "serve",
          "--backend", "openai",
          "--base-url", "http://127.0.0.1:8000",
          "--endpoint", "/v1/completions",
          "--model", "hub-sim",
          "--tokenizer", "/tok",
          "--dataset-name", "random", "--random-input-len", "256", "--random-output-len", "128",
          "--num-prompts", "60",
          "--request-rate", "inf", "--max-concurrency", "2",
          "--ignore-eos",
          "--seed", "42",
          "--percentile-metrics", "ttft,tpot,itl,e2el",
          "--metric-percentiles", "50,90,95,99,99.9",
          "--disable-tqdm",
          "--save-result", "--save-detailed",
          "--result-dir", "/runs/r1/native", "--result-filename", "stage-0.json",
          "--metadata", "hub_harness_version=0.33.0", "hub_load=concurrent", "hub_stage=0",
        ],
      },
    ]);
    // vLLM stops after a request count only: the 30 s stage becomes one request per stream-second.
    expect(r.warnings).toEqual([expect.stringMatching(/cannot stop after 30 s; it sends 60 requests/)]);
  });

  it("expresses every shipped profile, one invocation per stage, and declares the features they use", () => {
    for (const file of readdirSync(PROFILES).filter((f) => f.endsWith(".yaml"))) {
      const p = shipped(file.replace(/\.yaml$/, ""));
      expect(missingFeatures(p, harness.capabilities), file).toEqual([]);
      const r = ok(harness.translate(p, ctx));
      expect(r.invocations.map((inv) => inv.stage), file).toEqual(p.load.stages.map((_, i) => i));
      r.invocations.forEach((inv, i) => expect(flag(inv.argv, "result-filename")).toBe(`stage-${i}.json`));
    }
  });

  it("sends rate x duration requests at constant gaps for constant stages", () => {
    const r = ok(harness.translate(shipped("chatbot_synthetic"), ctx));
    expect(r.invocations.map((inv) => [flag(inv.argv, "request-rate"), flag(inv.argv, "burstiness"), flag(inv.argv, "num-prompts")])).toEqual([
      ["1", "inf", "120"],
      ["2", "inf", "240"],
      ["4", "inf", "480"],
      ["8", "inf", "960"],
    ]);
    expect(flag(r.invocations[0]!.argv, "max-concurrency")).toBeUndefined();
  });

  it("maps a length stddev to a uniform range ratio with the same stddev, and says so", () => {
    const r = ok(harness.translate(shipped("sanity_random"), ctx));
    const argv = r.invocations[0]!.argv;
    // sqrt(3) * 10 / 384 and sqrt(3) * 10 / 50, floored to 4 decimals.
    expect(JSON.parse(flag(argv, "random-range-ratio") as string)).toEqual({ input: 0.0451, output: 0.3464 });
    expect(r.warnings.join("\n")).toMatch(/input lengths uniformly from \[366, 402\].*\n.*output lengths uniformly from \[32, 68\]/);

    // A uniform that would cross min/max is narrowed to fit, and the smaller stddev reported.
    const tight = ok(harness.translate(profile({ load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { type: "random", input_tokens: { mean: 100, stddev: 30, min: 80 }, output_tokens: { mean: 8 } } }), ctx));
    expect(JSON.parse(flag(tight.invocations[0]!.argv, "random-range-ratio") as string)).toEqual({ input: 0.2, output: 0 });
    expect(tight.warnings.join(" ")).toMatch(/\[80, 120\].*stddev 11\.5 \(the profile's 30, cut/);
  });

  it("maps shared_prefix to the prefix_repetition dataset in whole prompts per prefix", () => {
    const r = ok(harness.translate(shipped("shared_prefix_synthetic"), ctx));
    const argv = r.invocations[0]!.argv;
    expect(flag(argv, "dataset-name")).toBe("prefix_repetition");
    expect([flag(argv, "prefix-repetition-prefix-len"), flag(argv, "prefix-repetition-suffix-len"), flag(argv, "prefix-repetition-num-prefixes"), flag(argv, "prefix-repetition-output-len")]).toEqual(["2048", "256", "32", "256"]);
    expect(r.invocations.map((inv) => flag(inv.argv, "num-prompts"))).toEqual(["96", "224", "384", "480", "576", "736", "992"]);
    expect(r.warnings.join(" ")).toMatch(/prompts_per_group \(32\) is not enforced/);
    expect(r.warnings.join(" ")).toMatch(/stage 0: 96 instead of 100/);
  });

  it("maps the API and the other load types", () => {
    const chat = only(harness.translate(profile({ api: { type: "chat" }, load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { ...random, seed: 7 } }), ctx));
    expect([flag(chat, "backend"), flag(chat, "endpoint"), flag(chat, "seed")]).toEqual(["openai-chat", "/v1/chat/completions", "7"]);
    expect([flag(chat, "request-rate"), flag(chat, "max-concurrency"), flag(chat, "num-prompts")]).toEqual(["inf", "1", "3"]);

    const poisson = only(harness.translate(profile({ load: { type: "poisson", stages: [{ rate: 3, duration_s: 5 }] }, data: random }), ctx));
    expect([flag(poisson, "request-rate"), flag(poisson, "burstiness"), flag(poisson, "num-prompts")]).toEqual(["3", "1", "15"]);

    const capped = only(harness.translate(profile({ load: { type: "throughput", stages: [{ concurrency: 16, requests: 50 }] }, data: random }), ctx));
    expect([flag(capped, "request-rate"), flag(capped, "max-concurrency"), flag(capped, "num-prompts")]).toEqual(["inf", "16", "50"]);
    const open = only(harness.translate(profile({ load: { type: "throughput", stages: [{ requests: 50 }] }, data: random }), ctx));
    expect(flag(open, "max-concurrency")).toBeUndefined();
  });

  it("reads prompt files with the custom dataset, one output length, no client chat template", () => {
    const argv = only(harness.translate(profile({ load: { type: "synchronous", stages: [{ requests: 5 }] }, data: { type: "file", path: "/data/prompts.jsonl", output_tokens: { mean: 64 } } }), ctx));
    expect([flag(argv, "dataset-name"), flag(argv, "dataset-path"), flag(argv, "custom-output-len"), flag(argv, "skip-chat-template")]).toEqual(["custom", "/data/prompts.jsonl", "64", true]);
  });

  it("applies limits: max_requests caps each stage, max_duration_s cuts the planned stage times", () => {
    const p = profile({
      load: { type: "constant", stages: [{ rate: 1, duration_s: 60 }, { rate: 2, duration_s: 20 }, { rate: 4, duration_s: 20 }] },
      data: random,
      limits: { max_duration_s: 70, max_requests: 50 },
    });
    const r = ok(harness.translate(p, ctx));
    expect(r.invocations.map((inv) => flag(inv.argv, "num-prompts"))).toEqual(["50", "20"]);
    expect(r.warnings.join("\n")).toMatch(/stage 1 planned for 10 s instead of 20 s[\s\S]*stages 2 to 2 dropped/);
  });

  it("refuses what vllm bench serve cannot express, saying why", () => {
    const cases: [Partial<ProfileInput> & Pick<ProfileInput, "load" | "data">, RegExp][] = [
      [{ load: { type: "sweep", stages: [{ duration_s: 5 }] }, data: random }, /no synchronous-to-throughput sweep/],
      [{ api: { streaming: false }, load: { type: "synchronous", stages: [{ requests: 3 }] }, data: random }, /always streams/],
      [{ load: { type: "synchronous", stages: [{ requests: 3 }] }, data: random, limits: { max_error_rate: 0.1 } }, /error rate/],
      [{ load: { type: "throughput", stages: [{ duration_s: 5 }] }, data: random }, /uncapped throughput stage/],
      [{ load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { type: "file", path: "/p.jsonl" } }, /needs an output length/],
      [{ load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { type: "file", path: "/p.json", output_tokens: { mean: 8 } } }, /only as \.jsonl/],
      [
        { load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { type: "shared_prefix", shared_prefix: { groups: 2, prompts_per_group: 2, prefix_tokens: 8, question_tokens: 8 }, output_tokens: { mean: 8, stddev: 2 } } },
        /same output length/,
      ],
    ];
    for (const [p, why] of cases) {
      const r = harness.translate(profile(p), ctx);
      expect(r.kind, String(why)).toBe("unsupported");
      expect(r.kind === "unsupported" && r.reason).toMatch(why);
    }
    expect(harness.capabilities).not.toContain("api.non_streaming");
    expect(harness.capabilities).not.toContain("load.sweep");
    expect(harness.capabilities).not.toContain("limits.max_error_rate");
  });

  it("pins vllm 0.33.0, installed without its own dependency list", () => {
    expect(harness).toMatchObject({ name: "vllm-benchmark", version: "0.33.0", install: { kind: "pip", distribution: "vllm", noDeps: ["vllm==0.33.0"], python: "3.11" } });
    expect(harness.install.packages).toContain("torch==2.14.0");
    expect(harness.install.packages.some((p) => /^vllm\b/.test(p))).toBe(false);
    expect(harness.converter.knownVersions).toEqual(["0.33.0"]);
  });
});
