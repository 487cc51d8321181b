import { join } from "node:path";
import { stringify } from "yaml";
import { inferencePerfConverter, REPORTS_DIR, VERSION_COMMENT } from "../../converters/inference-perf.ts";
import { defineHarness, type TranslateContext, type TranslateResult } from "../../src/harness/contract.ts";
import type { LengthDistribution, Profile } from "../../src/profile/schema.ts";

/**
 * inference-perf 0.7.0 (kubernetes-sigs/inference-perf): one `inference-perf --config_file`
 * process runs every stage. Checked against the installed 0.7.0 source (config/, main.py,
 * loadgen/load_generator.py, datagen/synthetic/); see test/fixtures/inference-perf/0.7.0/README.md.
 */

export const VERSION = "0.7.0";

type Json = Record<string, unknown>;
type Stage = Profile["load"]["stages"][number];

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

/**
 * 0.7.0's Distribution defaults min/max to 10/1024 and rejects a normal whose mean is outside
 * them, so bounds are always written: the profile's, else [mean, mean] for a fixed length, else
 * [1, mean + 10 stddev], which leaves hub's unclipped normal effectively unclipped.
 */
function distribution(d: LengthDistribution): Json {
  if (d.stddev === 0) return { mean: d.mean, std_dev: 0, min: d.min ?? d.mean, max: d.max ?? d.mean };
  return { mean: d.mean, std_dev: d.stddev, min: d.min ?? 1, max: d.max ?? Math.ceil(d.mean + 10 * d.stddev) };
}

function data(profile: Profile, warnings: string[]): Json | string {
  const d = profile.data;
  switch (d.type) {
    case "random":
      // total_count is left out: 0.7.0 sets it to the largest stage's request count + 1.
      return { type: "random", input_distribution: distribution(d.input_tokens!), output_distribution: distribution(d.output_tokens!) };
    case "shared_prefix": {
      const sp = d.shared_prefix!;
      const out = d.output_tokens!;
      if (d.input_tokens) warnings.push("data.input_tokens is ignored for shared_prefix data; the prompt is prefix_tokens + question_tokens");
      return {
        type: "shared_prefix",
        shared_prefix: {
          num_groups: sp.groups,
          num_prompts_per_group: sp.prompts_per_group,
          system_prompt_len: sp.prefix_tokens,
          question_len: sp.question_tokens,
          output_len: out.stddev === 0 ? out.mean : distribution(out),
          seed: d.seed,
        },
      };
    }
    case "file":
      return "inference-perf reads prompts only from its own dataset formats (shareGPT, trace replays), not from hub's JSONL prompt files";
  }
}

/**
 * Python's int(rate * duration): the number of requests 0.7.0 sends in a rate stage. Same IEEE
 * doubles in both languages, so Math.trunc gives the same count.
 */
const requestsSent = (rate: number, duration: number) => Math.trunc(rate * duration);

/** A constant/poisson stage: 0.7.0 sends int(rate * duration) requests on schedule (duration is a whole number of seconds), then waits for all. */
function rateStage(s: Stage, i: number, maxRequests: number | undefined, warnings: string[]): Json | string {
  const rate = s.rate!;
  const cap = s.requests !== undefined && maxRequests !== undefined ? Math.min(s.requests, maxRequests) : (s.requests ?? maxRequests);
  let seconds = s.duration_s ?? cap! / rate;
  if (cap !== undefined) seconds = Math.min(seconds, cap / rate);
  const duration = Math.max(1, Math.round(seconds));
  const sent = requestsSent(rate, duration);
  if (sent === 0) return `stage ${i}: inference-perf would send no request at ${rate} requests/s for ${duration} s (it sends int(rate x duration))`;
  if (duration !== seconds) warnings.push(`stage ${i}: inference-perf takes whole-second durations: ${seconds} s sent as ${duration} s (${sent} requests)`);
  if (cap !== undefined && sent > cap) warnings.push(`stage ${i}: sends ${sent} requests, ${sent - cap} more than the profile's bound of ${cap}`);
  return { rate, duration };
}

/**
 * A concurrent stage: 0.7.0 queues num_requests at once behind concurrency_level slots and ends
 * when all have finished. It has no time bound, and the time a stage of N requests takes depends
 * on the server, so a stage bounded only by duration_s is refused rather than guessed.
 */
function concurrentStage(s: Stage, i: number, concurrency: number, maxRequests: number | undefined, warnings: string[]): Json | string {
  const n = s.requests !== undefined && maxRequests !== undefined ? Math.min(s.requests, maxRequests) : (s.requests ?? maxRequests);
  if (n === undefined) {
    return (
      `stage ${i}: inference-perf ends a concurrent stage after a number of requests, never after a time; ` +
      `give the stage requests (for example -o load.stages.${i}.requests=100 -o load.stages.${i}.duration_s=null)`
    );
  }
  if (s.duration_s !== undefined) warnings.push(`stage ${i}: inference-perf cannot stop a concurrent stage at duration_s (${s.duration_s} s); it runs until ${n} requests have finished`);
  return { concurrency_level: concurrency, num_requests: n };
}

function load(profile: Profile, warnings: string[]): Json | string {
  const { load: l, limits } = profile;
  let stages: (Json | string)[];
  let type: string;
  switch (l.type) {
    case "constant":
    case "poisson":
      type = l.type;
      stages = l.stages.map((s, i) => rateStage(s, i, limits.max_requests, warnings));
      break;
    case "concurrent":
      type = "concurrent";
      stages = l.stages.map((s, i) => concurrentStage(s, i, s.concurrency!, limits.max_requests, warnings));
      break;
    case "synchronous":
      // One request at a time is a concurrent stage of one slot.
      type = "concurrent";
      stages = l.stages.map((s, i) => concurrentStage(s, i, 1, limits.max_requests, warnings));
      break;
    default:
      return `inference-perf has no ${l.type} load (its sweep probes a saturation rate, then runs constant stages; not hub's sweep)`;
  }
  const refused = stages.find((s) => typeof s === "string");
  if (refused !== undefined) return refused;

  if (limits.max_duration_s !== undefined) {
    if (type === "concurrent") return "inference-perf cannot stop a run after limits.max_duration_s: its concurrent stages end only when their requests have finished";
    const cut = capDurations(stages as Json[], limits.max_duration_s, warnings);
    if (typeof cut === "string") return cut;
    stages = cut;
  }
  if (limits.max_error_rate !== undefined) return "inference-perf cannot stop a stage at an error rate in a way hub can express (limits.max_error_rate)";

  return {
    type,
    stages,
    // 1 s between stages (0.7.0's default), written out so the pause is visible in the config.
    interval: 1,
    // One worker process: the machine hub targets has 2 cores, and the main process schedules.
    num_workers: 1,
    // 0.7.0 caps in-flight requests at num_workers x worker_max_concurrency (default 100),
    // which would silently turn a fast open-loop stage closed-loop. Concurrent stages ignore it.
    worker_max_concurrency: 1000,
    base_seed: profile.data.seed,
  };
}

/** Shortens rate stages so their planned durations add up to at most maxS (the last request's tail is extra). */
function capDurations(stages: Json[], maxS: number, warnings: string[]): Json[] | string {
  const out: Json[] = [];
  let left = Math.floor(maxS);
  for (const [i, s] of stages.entries()) {
    const d = s["duration"] as number;
    if (left < 1 || requestsSent(s["rate"] as number, Math.min(d, left)) === 0) {
      warnings.push(`limits.max_duration_s (${maxS} s): stages ${i} to ${stages.length - 1} dropped`);
      break;
    }
    if (d > left) warnings.push(`limits.max_duration_s (${maxS} s): stage ${i} shortened from ${d} s to ${left} s`);
    out.push({ ...s, duration: Math.min(d, left) });
    left -= Math.min(d, left);
  }
  if (out.length === 0) return `limits.max_duration_s (${maxS} s) leaves no whole second for a stage`;
  return out;
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  // 0.7.0's random generator serves only /v1/completions, and its shared_prefix generator sends
  // text prompts to /v1/completions even with api.type chat.
  if (profile.api.type === "chat") return unsupported("inference-perf 0.7.0's synthetic data (random, shared_prefix) is sent only to /v1/completions");
  const d = data(profile, warnings);
  if (typeof d === "string") return unsupported(d);
  const l = load(profile, warnings);
  if (typeof l === "string") return unsupported(l);

  const config = {
    api: { type: "completion", streaming: profile.api.streaming },
    server: { type: "vllm", base_url: ctx.target, model_name: ctx.model, ignore_eos: true },
    tokenizer: { pretrained_model_name_or_path: ctx.tokenizerDir },
    data: d,
    load: l,
    report: {
      request_lifecycle: {
        summary: true,
        per_stage: true,
        per_request: true,
        // Keep the per-request file small: the converter reads times, counts and errors only.
        per_request_fields: { request: false, response: false, response_chunks: false },
      },
      // No Prometheus source is configured; null skips its report and a warning.
      prometheus: null,
    },
    storage: { local_storage: { path: join(ctx.outputDir, REPORTS_DIR) } },
  };
  const configPath = join(ctx.outputDir, "config.yml");
  return {
    kind: "ok",
    invocations: [
      {
        argv: ["inference-perf", "--config_file", configPath],
        // The tokenizer is a local directory; never ask the Hugging Face Hub.
        env: { HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1" },
        files: { "config.yml": `${VERSION_COMMENT} ${VERSION}\n${stringify(config)}` },
      },
    ],
    warnings,
  };
}

export default defineHarness({
  name: "inference-perf",
  description: "Kubernetes SIG inference-perf: random or shared-prefix prompts at constant, Poisson or concurrent load, several stages per run",
  version: VERSION,
  install: { kind: "pip", distribution: "inference-perf", packages: [`inference-perf==${VERSION}`], python: "3.12" },
  capabilities: [
    "api.completion",
    "api.non_streaming",
    "load.synchronous",
    "load.concurrent",
    "load.constant",
    "load.poisson",
    "load.multi_stage",
    "stage.duration",
    "stage.requests",
    "data.random",
    "data.shared_prefix",
    "data.length_distribution",
  ],
  translate,
  converter: inferencePerfConverter,
});
