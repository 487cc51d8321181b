import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import genaiBench from "../../harnesses/genai-bench/index.ts";
import type { Invocation, TranslateResult } from "../../src/index.ts";
import { missingFeatures } from "../../src/harness/features.ts";
import { Profile, type ProfileInput } from "../../src/profile/schema.ts";

const ctx = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tok", outputDir: "/runs/r1/native" };
const PROFILES = join(import.meta.dirname, "../../profiles");
const raw = (name: string) => parse(readFileSync(join(PROFILES, `${name}.yaml`), "utf8")) as Record<string, unknown>;
const shipped = (name: string) => Profile.parse(raw(name));
const chat = (name: string) => Profile.parse({ ...raw(name), api: { type: "chat", streaming: true } });
const profile = (p: Partial<ProfileInput> & Pick<ProfileInput, "load" | "data">) => Profile.parse({ name: "t", api: { type: "chat" }, ...p });
const random = { type: "random", input_tokens: { mean: 32 }, output_tokens: { mean: 8 } } as const;

function ok(r: TranslateResult): { invocations: Invocation[]; warnings: string[] } {
  if (r.kind !== "ok") throw new Error(`unsupported: ${r.reason}`);
  return r;
}
const flag = (argv: string[], name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
};
const flags = (argv: string[], name: string) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]!] : []));

describe("genai-bench adapter", () => {
  it("translates sanity_concurrent (as chat) to this exact command line", () => {
    const r = ok(genaiBench.translate(chat("sanity_concurrent"), ctx));
    expect(r.invocations).toEqual([
      {
        argv: [
          "genai-bench",
          "benchmark",
          "--api-backend",
          "vllm",
          "--api-base",
          "http://127.0.0.1:8000",
          "--api-key",
          "harness-hub",
          "--api-model-name",
          "hub-sim",
          "--model",
          "hub-sim",
          "--model-tokenizer",
          "/tok",
          "--task",
          "text-to-text",
          "--traffic-scenario",
          "D(256,128)",
          "--num-concurrency",
          "2",
          "--max-time-per-run",
          "1",
          "--max-requests-per-run",
          "1000000",
          "--metrics-time-unit",
          "s",
          "--experiment-base-dir",
          "/runs/r1/native",
          "--experiment-folder-name",
          "genai-bench",
          "--log-dir",
          "/runs/r1/native/logs",
        ],
        env: { ENABLE_UI: "false" },
      },
    ]);
    // 30 s cannot be said in whole minutes: it runs a minute, and says so.
    expect(r.warnings).toEqual(["genai-bench bounds a run in whole minutes (--max-time-per-run): 30 s runs as 1 min"]);
  });

  it("refuses the completions API and non-streaming, naming the override that works", () => {
    const r = genaiBench.translate(shipped("sanity_concurrent"), ctx);
    expect(r).toMatchObject({ kind: "unsupported" });
    expect(r.kind === "unsupported" && r.reason).toMatch(/only to \/v1\/chat\/completions; run the profile with -o api\.type=chat/);
    expect(missingFeatures(shipped("sanity_concurrent"), genaiBench.capabilities)).toEqual(["api.completion"]);
    const batch = genaiBench.translate(profile({ api: { type: "chat", streaming: false }, load: { type: "concurrent", stages: [{ concurrency: 1, requests: 2 }] }, data: random }), ctx);
    expect(batch.kind === "unsupported" && batch.reason).toMatch(/always streams/);
  });

  it("stages become concurrency levels of one run, with shared bounds", () => {
    const r = ok(
      genaiBench.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 1, requests: 8 }, { concurrency: 4, requests: 8 }] }, data: random }), ctx),
    );
    const argv = r.invocations[0]!.argv;
    expect(flags(argv, "num-concurrency")).toEqual(["1", "4"]);
    expect([flag(argv, "max-requests-per-run"), flag(argv, "max-time-per-run")]).toEqual(["8", "60"]);
    expect(r.warnings.join("\n")).toMatch(/needs a time bound: --max-time-per-run 60/);
    expect(r.warnings.join("\n")).toMatch(/checks its request bound once a second/);

    const differing = genaiBench.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 1, requests: 8 }, { concurrency: 4, requests: 16 }] }, data: random }), ctx);
    expect(differing.kind === "unsupported" && differing.reason).toMatch(/same time and request bounds/);
    const twice = genaiBench.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 2, requests: 8 }, { concurrency: 2, requests: 8 }] }, data: random }), ctx);
    expect(twice.kind === "unsupported" && twice.reason).toMatch(/cannot both run concurrency 2/);
  });

  it("whole-minute durations pass unchanged, others round to the nearest minute (at least one)", () => {
    const minutes = (duration_s: number) =>
      flag(ok(genaiBench.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 1, duration_s }] }, data: random }), ctx)).invocations[0]!.argv, "max-time-per-run");
    expect([minutes(120), minutes(10), minutes(100), minutes(150)]).toEqual(["2", "1", "2", "3"]);
    const r = ok(genaiBench.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 1, duration_s: 120 }] }, data: random }), ctx));
    expect(r.warnings).toEqual([]);
  });

  it("synchronous is concurrency 1; open-loop and sweep loads are refused", () => {
    const sync = ok(genaiBench.translate(profile({ load: { type: "synchronous", stages: [{ requests: 5 }] }, data: random }), ctx));
    expect(flags(sync.invocations[0]!.argv, "num-concurrency")).toEqual(["1"]);
    for (const name of ["sanity_random", "chatbot_synthetic"]) {
      const p = chat(name);
      expect(missingFeatures(p, genaiBench.capabilities), name).toContain(`load.${p.load.type}`);
    }
    const constant = genaiBench.translate(profile({ load: { type: "constant", stages: [{ rate: 1, requests: 5 }] }, data: random }), ctx);
    expect(constant.kind === "unsupported" && constant.reason).toMatch(/only closed-loop concurrency/);
  });

  it("normal length distributions become an N() scenario, with what it cannot keep said", () => {
    const r = ok(
      genaiBench.translate(
        profile({
          load: { type: "concurrent", stages: [{ concurrency: 2, requests: 10 }] },
          data: { type: "random", input_tokens: { mean: 480, stddev: 240, min: 10 }, output_tokens: { mean: 300, stddev: 150 } },
        }),
        ctx,
      ),
    );
    expect(flag(r.invocations[0]!.argv, "traffic-scenario")).toBe("N(480,240)/(300,150)");
    expect(r.warnings.join("\n")).toMatch(/clipped only at 1 token/);
    expect(r.warnings.join("\n")).toMatch(/no seed/);
  });

  it("folds limits into the shared bounds", () => {
    const r = ok(
      genaiBench.translate(
        profile({ load: { type: "concurrent", stages: [{ concurrency: 2, duration_s: 600, requests: 100 }] }, data: random, limits: { max_duration_s: 120, max_requests: 40 } }),
        ctx,
      ),
    );
    const argv = r.invocations[0]!.argv;
    expect([flag(argv, "max-time-per-run"), flag(argv, "max-requests-per-run")]).toEqual(["2", "40"]);
  });

  it("random_concurrent's ladder (different request counts per stage) and shared-prefix data are refused", () => {
    const r = genaiBench.translate(chat("random_concurrent"), ctx);
    expect(r.kind === "unsupported" && r.reason).toMatch(/same time and request bounds/);
    expect(missingFeatures(chat("shared_prefix_synthetic"), genaiBench.capabilities)).toContain("data.shared_prefix");
  });

  it("pins 0.0.5, needs no torch, and imports nothing but the public API", () => {
    expect(genaiBench.version).toBe("0.0.5");
    expect(genaiBench.install).toEqual({ kind: "pip", distribution: "genai-bench", packages: ["genai-bench==0.0.5"], python: "3.10" });
    for (const f of ["index.ts", "converter.ts"]) {
      const text = readFileSync(join(import.meta.dirname, "../../harnesses/genai-bench", f), "utf8");
      for (const m of text.matchAll(/from "([^"]+)"/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(harness-hub|node:[a-z/]+|\.\/[a-z-]+\.ts)$/);
    }
  });
});
