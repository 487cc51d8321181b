import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import guidellm from "../../harnesses/guidellm/index.ts";
import type { TranslateResult } from "../../src/harness/contract.ts";
import { missingFeatures } from "../../src/harness/features.ts";
import { Profile, type ProfileInput } from "../../src/profile/schema.ts";

const ctx = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tok", outputDir: "/runs/r1/native" };
const PROFILES = join(import.meta.dirname, "../../profiles");

const shipped = (name: string) => Profile.parse(parse(readFileSync(join(PROFILES, `${name}.yaml`), "utf8")));
const profile = (p: Partial<ProfileInput> & Pick<ProfileInput, "load" | "data">) => Profile.parse({ name: "t", ...p });

function argvOf(r: TranslateResult): string[] {
  if (r.kind !== "ok") throw new Error(`unsupported: ${r.reason}`);
  expect(r.invocations).toHaveLength(1);
  return r.invocations[0]!.argv;
}

/** The JSON value of every occurrence of --name. */
function opts(argv: string[], name: string): unknown[] {
  return argv.flatMap((a, i) => (a === `--${name}` ? [JSON.parse(argv[i + 1]!)] : []));
}

/** --override key values pairs. */
function overrides(argv: string[]): Record<string, string> {
  return Object.fromEntries(argv.flatMap((a, i) => (a === "--override" ? [[argv[i + 1]!, argv[i + 2]!]] : [])));
}

const random = { type: "random", input_tokens: { mean: 32 }, output_tokens: { mean: 8 } } as const;

describe("guidellm adapter", () => {
  it("translates sanity_concurrent to this exact command line", () => {
    const r = guidellm.translate(shipped("sanity_concurrent"), ctx);
    expect(r).toMatchObject({ kind: "ok", warnings: [] });
    expect(argvOf(r)).toEqual([
      "guidellm",
      "run",
      "--backend",
      '{"kind":"openai_http","target":"http://127.0.0.1:8000","model":"hub-sim","request_format":"/v1/completions","stream":true}',
      "--tokenizer",
      '{"kind":"huggingface_auto","model":"/tok"}',
      "--data",
      '{"kind":"synthetic_text","prompt_tokens":256,"output_tokens":128}',
      "--profile",
      '{"kind":"concurrent","streams":2}',
      "--constraint",
      '{"kind":"max_duration","seconds":30}',
      "--seed",
      '{"kind":"static","value":42}',
      "--metrics",
      '{"kind":"generative","sample_size":0}',
      "--output",
      '{"kind":"json","path":"/runs/r1/native/benchmarks.json"}',
      "--disable-console-interactive",
    ]);
  });

  it("runs the constant-rate ladders as one invocation with a rate override", () => {
    for (const name of ["chatbot_synthetic", "summarization_synthetic", "code_completion_synthetic"]) {
      const argv = argvOf(guidellm.translate(shipped(name), ctx));
      expect(opts(argv, "profile")).toEqual([{ kind: "constant", rate: 1 }]);
      expect(overrides(argv)).toEqual({ "profile.rate": "1,2,4,8" });
      // Same duration for every stage: one value applies to each strategy.
      expect(opts(argv, "constraint")).toEqual([{ kind: "max_duration", seconds: 120 }]);
    }
    const data = opts(argvOf(guidellm.translate(shipped("chatbot_synthetic"), ctx)), "data");
    expect(data).toEqual([
      {
        kind: "synthetic_text",
        prompt_tokens: 4096,
        prompt_tokens_stdev: 2048,
        prompt_tokens_min: 10,
        prompt_tokens_max: 8192,
        output_tokens: 1024,
        output_tokens_stdev: 512,
        output_tokens_min: 10,
        output_tokens_max: 2048,
      },
    ]);
  });

  it("translates sanity_random with its length distributions", () => {
    const argv = argvOf(guidellm.translate(shipped("sanity_random"), ctx));
    expect(opts(argv, "profile")).toEqual([{ kind: "constant", rate: 1 }]);
    expect(overrides(argv)).toEqual({});
    expect(opts(argv, "data")[0]).toMatchObject({ prompt_tokens: 384, prompt_tokens_stdev: 10, prompt_tokens_min: 256, prompt_tokens_max: 512, output_tokens: 50, output_tokens_stdev: 10 });
  });

  it("translates random_concurrent with per-stage streams and request counts", () => {
    const argv = argvOf(guidellm.translate(shipped("random_concurrent"), ctx));
    expect(opts(argv, "profile")).toEqual([{ kind: "concurrent", streams: 1 }]);
    expect(opts(argv, "constraint")).toEqual([{ kind: "max_requests", count: 32 }]);
    expect(overrides(argv)).toEqual({ "profile.streams": "1,2,4,8", "constraints[0].count": "32,64,128,256" });
  });

  it("translates shared_prefix_synthetic to prefix buckets and says what is lost", () => {
    const r = guidellm.translate(shipped("shared_prefix_synthetic"), ctx);
    const argv = argvOf(r);
    expect(opts(argv, "data")).toEqual([{ kind: "synthetic_text", prompt_tokens: 256, prefix_tokens: 2048, prefix_count: 32, output_tokens: 256 }]);
    expect(overrides(argv)).toEqual({ "profile.rate": "2,5,8,10,12,15,20" });
    expect(r.kind === "ok" && r.warnings.join(" ")).toContain("prompts_per_group");
  });

  it("expresses every shipped profile and declares the features they use", () => {
    for (const file of readdirSync(PROFILES).filter((f) => f.endsWith(".yaml"))) {
      const p = shipped(file.replace(/\.yaml$/, ""));
      expect(missingFeatures(p, guidellm.capabilities), file).toEqual([]);
      expect(guidellm.translate(p, ctx).kind, file).toBe("ok");
    }
  });

  it("passes every option as valid JSON", () => {
    const argv = argvOf(guidellm.translate(shipped("random_concurrent"), ctx));
    for (const name of ["backend", "tokenizer", "data", "profile", "constraint", "seed", "metrics", "output"]) {
      expect(opts(argv, name).length, name).toBeGreaterThan(0);
    }
  });

  it("overrides the load for several stages even when their values repeat", () => {
    const p = profile({ load: { type: "concurrent", stages: [{ concurrency: 2, duration_s: 5 }, { concurrency: 2, duration_s: 10 }] }, data: random });
    const argv = argvOf(guidellm.translate(p, ctx));
    expect(overrides(argv)).toEqual({ "profile.streams": "2,2", "constraints[0].seconds": "5,10" });
  });

  it("maps the API, streaming, seed and the other load types", () => {
    const chat = argvOf(guidellm.translate(profile({ api: { type: "chat", streaming: false }, load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { ...random, seed: 7 } }), ctx));
    expect(opts(chat, "backend")[0]).toMatchObject({ request_format: "/v1/chat/completions", stream: false });
    expect(opts(chat, "profile")).toEqual([{ kind: "synchronous" }]);
    expect(opts(chat, "constraint")).toEqual([{ kind: "max_requests", count: 3 }]);
    expect(opts(chat, "seed")).toEqual([{ kind: "static", value: 7 }]);

    const poisson = argvOf(guidellm.translate(profile({ load: { type: "poisson", stages: [{ rate: 3, duration_s: 5 }] }, data: random }), ctx));
    expect(opts(poisson, "profile")).toEqual([{ kind: "poisson", rate: 3 }]);

    const thr = argvOf(guidellm.translate(profile({ load: { type: "throughput", stages: [{ duration_s: 5 }] }, data: random }), ctx));
    expect(opts(thr, "profile")).toEqual([{ kind: "throughput", max_concurrency: null }]);
    const capped = argvOf(guidellm.translate(profile({ load: { type: "throughput", stages: [{ concurrency: 16, duration_s: 5 }] }, data: random }), ctx));
    expect(opts(capped, "profile")).toEqual([{ kind: "throughput", max_concurrency: 16 }]);

    const sweep = argvOf(guidellm.translate(profile({ load: { type: "sweep", sweep: { points: 4 }, stages: [{ duration_s: 5 }] }, data: random }), ctx));
    expect(opts(sweep, "profile")).toEqual([{ kind: "sweep", sweep_size: 4, strategy_type: "constant" }]);
    expect(opts(sweep, "constraint")).toEqual([{ kind: "max_duration", seconds: 5 }]);
  });

  it("sends fixed lengths without min and max (guidellm would draw uniformly between them)", () => {
    const p = profile({ load: { type: "synchronous", stages: [{ requests: 3 }] }, data: { type: "random", input_tokens: { mean: 32, min: 16, max: 64 }, output_tokens: { mean: 8, stddev: 2.4 } } });
    const r = guidellm.translate(p, ctx);
    expect(opts(argvOf(r), "data")).toEqual([{ kind: "synthetic_text", prompt_tokens: 32, output_tokens: 8, output_tokens_stdev: 2 }]);
    expect(r.kind === "ok" && r.warnings.join(" ")).toContain("stddev 2.4 sent as 2");
  });

  it("folds limits into the per-stage constraints", () => {
    const p = profile({
      load: { type: "constant", stages: [{ rate: 1, duration_s: 60 }, { rate: 2, duration_s: 20 }] },
      data: random,
      limits: { max_duration_s: 30, max_requests: 100, max_error_rate: 0.1 },
    });
    const r = guidellm.translate(p, ctx);
    const argv = argvOf(r);
    expect(opts(argv, "constraint")).toEqual([
      { kind: "max_duration", seconds: 30 },
      { kind: "max_requests", count: 100 },
      { kind: "max_global_error_rate", rate: 0.1 },
    ]);
    expect(overrides(argv)).toEqual({ "profile.rate": "1,2", "constraints[0].seconds": "30,20" });
    expect(r.kind === "ok" && r.warnings.join(" ")).toMatch(/no whole-run time limit.*30 requests/s);

    const zero = argvOf(guidellm.translate(profile({ load: { type: "synchronous", stages: [{ requests: 5 }] }, data: random, limits: { max_error_rate: 0 } }), ctx));
    expect(opts(zero, "constraint")).toContainEqual({ kind: "max_errors", count: 1 });
  });

  it("reads prompt files as json_file with one max_tokens and EOS ignored", () => {
    const p = profile({ load: { type: "synchronous", stages: [{ requests: 5 }] }, data: { type: "file", path: "/data/prompts.jsonl", output_tokens: { mean: 64 } } });
    const argv = argvOf(guidellm.translate(p, ctx));
    expect(opts(argv, "data")).toEqual([{ kind: "json_file", path: "/data/prompts.jsonl" }]);
    expect(opts(argv, "backend")[0]).toMatchObject({ max_tokens: 64, extras: { body: { ignore_eos: true } } });
  });

  it("refuses what guidellm cannot express, saying why", () => {
    const cases: [ProfileInput["load"], ProfileInput["data"], RegExp][] = [
      [{ type: "synchronous", stages: [{ requests: 3 }, { requests: 5 }] }, random, /synchronous as one strategy/],
      [{ type: "throughput", stages: [{ duration_s: 3 }, { duration_s: 5 }] }, random, /throughput as one strategy/],
      [{ type: "concurrent", stages: [{ concurrency: 1, duration_s: 3 }, { concurrency: 2, requests: 5 }] }, random, /only 1 of 2 stages set duration_s/],
      [{ type: "synchronous", stages: [{ requests: 3 }] }, { type: "file", path: "/data/prompts.txt" }, /\.json or \.jsonl/],
    ];
    for (const [load, data, why] of cases) {
      const r = guidellm.translate(profile({ load, data }), ctx);
      expect(r.kind).toBe("unsupported");
      expect(r.kind === "unsupported" && r.reason).toMatch(why);
    }
  });

  it("declares the pinned install", () => {
    expect(guidellm).toMatchObject({ name: "guidellm", version: "0.8.1", install: { kind: "pip", distribution: "guidellm", packages: ["guidellm==0.8.1"], torch: true } });
    expect(guidellm.converter.knownVersions).toContain("0.8.1");
  });
});
