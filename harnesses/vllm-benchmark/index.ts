import { KNOWN_VERSIONS, stageFileName, vllmBenchmarkConverter } from "../../converters/vllm-benchmark.ts";
import { defineHarness, type TranslateContext, type TranslateResult } from "../../src/harness/contract.ts";
import type { LengthDistribution, Profile } from "../../src/profile/schema.ts";
import { minOf } from "../../src/metrics/stats.ts";

/**
 * vLLM's serving benchmark client, `vllm bench serve` from vllm 0.33.0: one process per profile
 * stage, each writing native/stage-<i>.json. Flags checked against the installed 0.33.0 source
 * (vllm/benchmarks/serve.py, datasets/datasets.py, datasets/utils.py); see
 * test/fixtures/vllm-benchmark/0.33.0/README.md for what a run does.
 */

export const VERSION = KNOWN_VERSIONS[0];

/**
 * vllm 0.33.0 requires certifi>=2026.10.19, which PyPI as reached here does not have, so pip cannot
 * resolve `vllm==0.33.0`. The bench client needs little of vllm's GPU stack, so vllm goes in with
 * --no-deps (`noDeps`) after the packages `vllm bench serve` imports, with vllm's own version
 * bounds. The list was found by installing vllm alone and adding what each failed import named
 * until the random, prefix_repetition and custom datasets and both backends ran; pandas is for
 * the custom (file) dataset. torch is the version vllm pins; PyPI's Linux wheel brings CUDA
 * libraries (~2.5 GB) but runs on CPU, and a matching local CPU wheel is preferred when present.
 */
const PACKAGES = [
  "torch==2.14.0",
  "transformers>=5.16.1,<5.21.0",
  "huggingface_hub>=1.31.0",
  "tokenizers>=0.23.2",
  "aiohttp>=3.14.4",
  "numpy",
  "tqdm",
  "regex",
  "pyyaml",
  "packaging",
  "pydantic>=2.12.0",
  "requests>=2.33.0",
  "urllib3",
  "psutil",
  "pyzmq>=25.0.0",
  "cbor2",
  "msgspec",
  "cloudpickle",
  "pillow>=13.0.0",
  "pybase64",
  "cachetools",
  "py-cpuinfo",
  "openai>=2.25.0",
  "oss-harmony>=0.0.11",
  "fastapi>=0.133.0,<0.137.0",
  "uvicorn",
  "uvloop",
  "prometheus_client>=0.18.0",
  "partial-json-parser",
  "xgrammar==0.2.8",
  "llguidance>=1.7.0,<1.8.0",
  "watchfiles",
  "orjson>=3.11.6",
  "einops",
  "pandas",
];

type Stage = Profile["load"]["stages"][number];
type LoadType = Exclude<Profile["load"]["type"], "sweep">;

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

/**
 * vLLM's random lengths are integer-uniform on [mean(1 - r), mean(1 + r)], r in [0, 1). A uniform
 * of half-width w has stddev w/sqrt(3), so r = sqrt(3) stddev / mean keeps mean and stddev; it is
 * then shrunk to stay inside [min, max]. Only a fixed length (stddev 0) is exact.
 */
function rangeRatio(what: string, d: LengthDistribution, warnings: string[]): number {
  if (d.stddev === 0) return 0;
  let r = (Math.sqrt(3) * d.stddev) / d.mean;
  const room = Math.min(d.min !== undefined ? (d.mean - d.min) / d.mean : 1, d.max !== undefined ? (d.max - d.mean) / d.mean : 1);
  const limit = Math.min(room, 0.99);
  const clipped = r > limit;
  if (clipped) r = limit;
  r = Math.floor(r * 1e4) / 1e4;
  const lo = Math.floor(d.mean * (1 - r));
  const hi = Math.ceil(d.mean * (1 + r));
  const sd = (d.mean * r) / Math.sqrt(3);
  warnings.push(
    `vllm draws ${what} lengths uniformly from [${lo}, ${hi}] (--random-range-ratio ${r}), not from a normal: ` +
      `mean ${d.mean}, stddev ${sd.toFixed(1)}${clipped ? ` (the profile's ${d.stddev}, cut to stay within its min/max)` : ""}`,
  );
  return r;
}

/** One value for both lengths, else vLLM's JSON form with separate input and output ratios. */
function rangeRatioFlag(input: number, output: number): string {
  return input === output ? String(input) : JSON.stringify({ input, output });
}

function dataFlags(profile: Profile, warnings: string[]): string[] | string {
  const d = profile.data;
  const out = d.output_tokens;
  const fixedOutput = (kind: string): string | undefined =>
    out && out.stddev > 0 ? `vllm bench serve gives every ${kind} request the same output length; output_tokens.stddev must be 0` : undefined;
  switch (d.type) {
    case "random": {
      const rIn = rangeRatio("input", d.input_tokens!, warnings);
      const rOut = rangeRatio("output", out!, warnings);
      const ratio = rIn === 0 && rOut === 0 ? [] : ["--random-range-ratio", rangeRatioFlag(rIn, rOut)];
      return ["--dataset-name", "random", "--random-input-len", String(d.input_tokens!.mean), "--random-output-len", String(out!.mean), ...ratio];
    }
    case "shared_prefix": {
      const refused = fixedOutput("shared-prefix");
      if (refused) return refused;
      const sp = d.shared_prefix!;
      if (d.input_tokens) warnings.push("data.input_tokens is ignored for shared_prefix data; the prompt is prefix_tokens + question_tokens");
      warnings.push(
        `vllm's prefix_repetition dataset makes num_prompts / ${sp.groups} prompts per prefix, each with a new question, and shuffles them: ` +
          `prompts_per_group (${sp.prompts_per_group}) is not enforced`,
      );
      return [
        "--dataset-name",
        "prefix_repetition",
        "--prefix-repetition-prefix-len",
        String(sp.prefix_tokens),
        "--prefix-repetition-suffix-len",
        String(sp.question_tokens),
        "--prefix-repetition-num-prefixes",
        String(sp.groups),
        "--prefix-repetition-output-len",
        String(out!.mean),
      ];
    }
    case "file": {
      if (!out) return "vllm bench serve needs an output length for file prompts: set data.output_tokens";
      const refused = fixedOutput("file");
      if (refused) return refused;
      if (!/\.jsonl$/i.test(d.path!)) return `vllm bench serve reads prompt files only as .jsonl (got ${d.path})`;
      warnings.push("vllm bench serve shuffles the file's prompts and, when a stage needs more requests than the file has lines, repeats randomly chosen ones");
      // --skip-chat-template: send the file's text as written (the chat backend wraps it in a
      // user message itself; the server applies its template).
      return ["--dataset-name", "custom", "--dataset-path", d.path!, "--custom-output-len", String(out.mean), "--skip-chat-template"];
    }
  }
}

/**
 * Requests for one stage. vLLM stops only after --num-prompts requests, never after a time:
 * rate stages send rate x duration (their sending span is exactly duration_s); closed-loop stages
 * bounded by time get one request per stream per second of the stage, and last as long as the
 * server takes to answer them.
 */
function stageRequests(type: LoadType, s: Stage, i: number, seconds: number | undefined, maxRequests: number | undefined, warnings: string[]): number | string {
  const caps = [s.requests, maxRequests].filter((v): v is number => v !== undefined);
  let n: number | undefined;
  if (seconds !== undefined) {
    if (type === "constant" || type === "poisson") {
      n = Math.max(1, Math.round(s.rate! * seconds));
    } else {
      const streams = type === "synchronous" ? 1 : s.concurrency;
      if (streams === undefined) {
        return `stage ${i}: vllm bench serve ends a stage after a number of requests, never after a time, and an uncapped throughput stage has no stream count to estimate one from; give the stage requests or concurrency`;
      }
      n = Math.max(1, Math.ceil(streams * seconds));
      if (caps.length === 0 || minOf(caps) > n) {
        warnings.push(
          `stage ${i}: vllm bench serve cannot stop after ${seconds} s; it sends ${n} requests (one per stream per second) and runs until they finish, however long the server takes`,
        );
      }
    }
  }
  if (caps.length > 0) n = n === undefined ? minOf(caps) : Math.min(n, minOf(caps));
  return n!;
}

/** Per-stage --request-rate / --burstiness / --max-concurrency. */
function loadFlags(type: LoadType, s: Stage): string[] {
  switch (type) {
    case "synchronous":
      return ["--request-rate", "inf", "--max-concurrency", "1"];
    case "concurrent":
      // Every request is released at once and the client-side cap keeps `concurrency` in flight.
      return ["--request-rate", "inf", "--max-concurrency", String(s.concurrency!)];
    case "throughput":
      return ["--request-rate", "inf", ...(s.concurrency !== undefined ? ["--max-concurrency", String(s.concurrency)] : [])];
    case "constant":
      // Gamma-distributed gaps with shape inf: exactly 1/rate apart.
      return ["--request-rate", String(s.rate!), "--burstiness", "inf"];
    case "poisson":
      // Shape 1: exponential gaps. vLLM rescales them so the last send falls at requests/rate.
      return ["--request-rate", String(s.rate!), "--burstiness", "1"];
  }
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  const { load, limits } = profile;
  if (load.type === "sweep") return unsupported("vllm bench serve has no synchronous-to-throughput sweep; list the load points as stages of a constant or concurrent profile");
  if (!profile.api.streaming) return unsupported("vllm bench serve always streams (it measures TTFT and ITL from the stream)");
  if (limits.max_error_rate !== undefined) return unsupported("vllm bench serve cannot stop a stage at an error rate (limits.max_error_rate)");
  const type: LoadType = load.type;
  const data = dataFlags(profile, warnings);
  if (typeof data === "string") return unsupported(data);
  const chat = profile.api.type === "chat";
  if (chat && profile.data.type !== "file") warnings.push("chat API: the server's chat template adds tokens around each synthetic prompt; input tokens are the server's usage.prompt_tokens");

  // limits.max_duration_s: vLLM has no time limit, so the stages' planned times are cut to fit it.
  let left = limits.max_duration_s;
  const invocations: { argv: string[]; stage: number }[] = [];
  const rounded: string[] = [];
  for (const [i, s] of load.stages.entries()) {
    let seconds = s.duration_s;
    if (left !== undefined) {
      if (left <= 0) {
        warnings.push(`limits.max_duration_s (${limits.max_duration_s} s): stages ${i} to ${load.stages.length - 1} dropped`);
        break;
      }
      const planned = seconds ?? (s.rate !== undefined && s.requests !== undefined ? s.requests / s.rate : undefined);
      if (planned === undefined) {
        warnings.push(`limits.max_duration_s (${limits.max_duration_s} s) cannot bound stage ${i}: vllm bench serve has no time limit and the stage's length depends on the server`);
      } else {
        if (planned > left) warnings.push(`limits.max_duration_s (${limits.max_duration_s} s): stage ${i} planned for ${left} s instead of ${planned} s`);
        seconds = Math.min(planned, left);
        left -= seconds;
      }
    }
    let n = stageRequests(type, s, i, seconds, limits.max_requests, warnings);
    if (typeof n === "string") return unsupported(n);
    if (profile.data.type === "shared_prefix") {
      // prefix_repetition sends groups x floor(n / groups) requests and refuses n < groups.
      const g = profile.data.shared_prefix!.groups;
      const sent = Math.max(g, Math.floor(n / g) * g);
      if (sent !== n) rounded.push(`stage ${i}: ${sent} instead of ${n}`);
      n = sent;
    }
    const argv = [
      "vllm",
      "bench",
      "serve",
      "--backend",
      chat ? "openai-chat" : "openai",
      "--base-url",
      ctx.target,
      "--endpoint",
      chat ? "/v1/chat/completions" : "/v1/completions",
      "--model",
      ctx.model,
      "--tokenizer",
      ctx.tokenizerDir,
      ...data,
      "--num-prompts",
      String(n),
      ...loadFlags(type, s),
      // Forced on for the random dataset anyway; set so every dataset generates to the length.
      "--ignore-eos",
      "--seed",
      String(profile.data.seed),
      "--percentile-metrics",
      "ttft,tpot,itl,e2el",
      "--metric-percentiles",
      "50,90,95,99,99.9",
      "--disable-tqdm",
      "--save-result",
      "--save-detailed",
      "--result-dir",
      ctx.outputDir,
      "--result-filename",
      stageFileName(i),
      // vLLM records neither its version nor hub's load type; --metadata keys land in the result.
      "--metadata",
      `hub_harness_version=${VERSION}`,
      `hub_load=${type}`,
      `hub_stage=${i}`,
    ];
    invocations.push({ argv, stage: i });
  }
  if (rounded.length > 0) {
    warnings.push(`vllm's prefix_repetition dataset sends a whole number of prompts per prefix, so stages send fewer requests (and rate stages end sooner): ${rounded.join("; ")}`);
  }
  if (invocations.length === 0) return unsupported(`limits.max_duration_s (${limits.max_duration_s} s) leaves no time for a stage`);
  // The tokenizer is a local directory; never ask the Hugging Face Hub.
  const env = { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" };
  return { kind: "ok", invocations: invocations.map((inv) => ({ ...inv, env })), warnings };
}

export default defineHarness({
  name: "vllm-benchmark",
  description: "vLLM's `vllm bench serve`: random, shared-prefix or file prompts at synchronous, concurrent, constant, Poisson or throughput load, one process per stage",
  version: VERSION,
  install: { kind: "pip", distribution: "vllm", packages: PACKAGES, noDeps: [`vllm==${VERSION}`], python: "3.11" },
  capabilities: [
    "api.completion",
    "api.chat",
    "load.synchronous",
    "load.concurrent",
    "load.constant",
    "load.poisson",
    "load.throughput",
    "load.multi_stage",
    "stage.duration",
    "stage.requests",
    "data.random",
    "data.shared_prefix",
    "data.file",
    "data.length_distribution",
  ],
  translate,
  converter: vllmBenchmarkConverter,
});
