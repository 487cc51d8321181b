import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import aiperf from "../../harnesses/aiperf/index.ts";
import type { Invocation, TranslateResult } from "../../src/index.ts";
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
/** The value after --flag (undefined when absent). */
const flag = (argv: string[], name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i < 0 ? undefined : argv[i + 1];
};

describe("aiperf adapter", () => {
  it("translates sanity_concurrent to this exact command line", () => {
    const r = ok(aiperf.translate(shipped("sanity_concurrent"), ctx));
    expect(r.warnings).toEqual([]);
    expect(r.invocations).toHaveLength(1);
    expect(r.invocations[0]).toEqual({
      argv: [
        "aiperf",
        "profile",
        "--model",
        "hub-sim",
        "--url",
        "http://127.0.0.1:8000",
        "--endpoint-type",
        "completions",
        "--streaming",
        "--tokenizer",
        "/tok",
        "--use-server-token-count",
        "--isl",
        "256",
        "--isl-stddev",
        "0",
        "--osl",
        "128",
        "--osl-stddev",
        "0",
        "--extra-inputs",
        "ignore_eos:true",
        "--random-seed",
        "42",
        "--ui-type",
        "none",
        "--no-server-metrics",
        "--no-gpu-telemetry",
        "--concurrency",
        "2",
        "--benchmark-duration",
        "30",
        "--artifact-dir",
        "/runs/r1/native/stage_0",
      ],
      env: { HF_HUB_OFFLINE: "", TRANSFORMERS_OFFLINE: "" },
      stage: 0,
    });
  });

  it("runs one aiperf process per stage, each into its own artifact folder", () => {
    const r = ok(
      aiperf.translate(
        profile({ load: { type: "concurrent", stages: [{ concurrency: 1, requests: 6 }, { concurrency: 4, requests: 20, duration_s: 10 }] }, data: random }),
        ctx,
      ),
    );
    expect(r.invocations.map((i) => i.stage)).toEqual([0, 1]);
    const [a, b] = r.invocations.map((i) => i.argv);
    expect([flag(a!, "concurrency"), flag(a!, "request-count"), flag(a!, "benchmark-duration"), flag(a!, "artifact-dir")]).toEqual(["1", "6", undefined, "/runs/r1/native/stage_0"]);
    expect([flag(b!, "concurrency"), flag(b!, "request-count"), flag(b!, "benchmark-duration"), flag(b!, "artifact-dir")]).toEqual(["4", "20", "10", "/runs/r1/native/stage_1"]);
  });

  it("maps every shipped profile it can express and refuses the others by reason", () => {
    const results = Object.fromEntries(
      ["chatbot_synthetic", "code_completion_synthetic", "random_concurrent", "sanity_concurrent", "sanity_random", "shared_prefix_synthetic", "summarization_synthetic"].map((n) => {
        const p = shipped(n);
        const missing = missingFeatures(p, aiperf.capabilities);
        return [n, missing.length > 0 ? `missing ${missing.join(", ")}` : aiperf.translate(p, ctx).kind];
      }),
    );
    expect(results).toMatchObject({ sanity_concurrent: "ok", sanity_random: "ok", random_concurrent: "ok", chatbot_synthetic: "ok" });
    expect(results["shared_prefix_synthetic"]).toMatch(/missing data\.shared_prefix/);
  });

  it("constant and Poisson stages are open-loop request rates", () => {
    for (const type of ["constant", "poisson"] as const) {
      const argv = ok(aiperf.translate(profile({ load: { type, stages: [{ rate: 2.5, duration_s: 20 }] }, data: random }), ctx)).invocations[0]!.argv;
      expect([flag(argv, "request-rate"), flag(argv, "arrival-pattern")]).toEqual(["2.5", type]);
      expect(argv).not.toContain("--concurrency");
    }
    const sync = ok(aiperf.translate(profile({ load: { type: "synchronous", stages: [{ requests: 5 }] }, data: random }), ctx)).invocations[0]!.argv;
    expect(flag(sync, "concurrency")).toBe("1");
  });

  it("chat, non-streaming and length distributions", () => {
    const r = ok(
      aiperf.translate(
        profile({
          api: { type: "chat", streaming: false },
          load: { type: "concurrent", stages: [{ concurrency: 2, requests: 10 }] },
          data: { type: "random", input_tokens: { mean: 100, stddev: 20, min: 50 }, output_tokens: { mean: 40, stddev: 5 } },
        }),
        ctx,
      ),
    );
    const argv = r.invocations[0]!.argv;
    expect(flag(argv, "endpoint-type")).toBe("chat");
    expect(argv).not.toContain("--streaming");
    expect([flag(argv, "isl"), flag(argv, "isl-stddev"), flag(argv, "osl"), flag(argv, "osl-stddev")]).toEqual(["100", "20", "40", "5"]);
    expect(r.warnings.join("\n")).toMatch(/no bounds: min\/max \(50\/-\) are not applied/);
  });

  it("folds limits into each stage's bounds", () => {
    const r = ok(
      aiperf.translate(
        profile({
          load: { type: "concurrent", stages: [{ concurrency: 1, duration_s: 60 }, { concurrency: 2, duration_s: 10, requests: 50 }] },
          data: random,
          limits: { max_duration_s: 20, max_requests: 30 },
        }),
        ctx,
      ),
    );
    const [a, b] = r.invocations.map((i) => i.argv);
    expect([flag(a!, "benchmark-duration"), flag(a!, "request-count")]).toEqual(["20", "30"]);
    expect([flag(b!, "benchmark-duration"), flag(b!, "request-count")]).toEqual(["10", "30"]);
    expect(r.warnings.join("\n")).toMatch(/caps each of the 2 stages/);
  });

  it("refuses data and loads it does not map", () => {
    const sp = aiperf.translate(shipped("shared_prefix_synthetic"), ctx);
    expect(sp).toMatchObject({ kind: "unsupported" });
    const file = aiperf.translate(profile({ load: { type: "concurrent", stages: [{ concurrency: 1, requests: 2 }] }, data: { type: "file", path: "p.jsonl", output_tokens: { mean: 8 } } }), ctx);
    expect(file).toMatchObject({ kind: "unsupported" });
    expect(file.kind === "unsupported" && file.reason).toMatch(/file data/);
  });

  it("declares only what it maps, and pins the version it installs", () => {
    expect(aiperf.version).toBe("0.13.0");
    expect(aiperf.install).toEqual({ kind: "pip", distribution: "aiperf", packages: ["aiperf==0.13.0"], python: "3.11" });
    expect(aiperf.converter.knownVersions).toEqual(["0.13.0"]);
    for (const f of ["load.throughput", "load.sweep", "data.shared_prefix", "data.file", "limits.max_error_rate"]) expect(aiperf.capabilities).not.toContain(f);
  });

  it("imports nothing but the public API (it could be published as a plugin unchanged)", () => {
    for (const f of ["index.ts", "converter.ts"]) {
      const text = readFileSync(join(import.meta.dirname, "../../harnesses/aiperf", f), "utf8");
      for (const m of text.matchAll(/from "([^"]+)"/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(harness-hub|node:[a-z/]+|\.\/[a-z-]+\.ts)$/);
    }
  });
});
