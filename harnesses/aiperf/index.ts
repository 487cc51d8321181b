import { join } from "node:path";
import { defineHarness, type Profile, type TranslateContext, type TranslateResult } from "harness-hub";
import { aiperfConverter, stageDir, VERSION } from "./converter.ts";

/**
 * NVIDIA aiperf 0.13.0 (`aiperf profile`), written only against harness-hub's public API: it
 * could live outside this repository as a plugin unchanged. One `aiperf profile` process per
 * profile stage, each writing its artifacts to native/stage_<i>/. Flags checked against the
 * installed 0.13.0 (`aiperf profile --help`, aiperf/config/flags, aiperf/common/tokenizer.py);
 * see test/fixtures/aiperf/0.13.0/README.md for what a run does.
 */

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

type Stage = Profile["load"]["stages"][number];
type LengthDistribution = NonNullable<Profile["data"]["input_tokens"]>;

/** --isl/--osl and their stddev. aiperf samples a normal, with no min or max. */
function lengths(flag: "isl" | "osl", d: LengthDistribution, warnings: string[]): string[] {
  if (d.stddev > 0 && (d.min !== undefined || d.max !== undefined)) {
    warnings.push(`aiperf draws ${flag === "isl" ? "prompt" : "output"} lengths from a normal with no bounds: min/max (${d.min ?? "-"}/${d.max ?? "-"}) are not applied`);
  }
  return [`--${flag}`, String(d.mean), `--${flag}-stddev`, String(d.stddev)];
}

/** The load flags of one stage. */
function loadFlags(profile: Profile, s: Stage): string[] | string {
  switch (profile.load.type) {
    case "synchronous":
      return ["--concurrency", "1"];
    case "concurrent":
      return ["--concurrency", String(s.concurrency)];
    case "constant":
    case "poisson":
      // Open loop: aiperf's rate phases put no cap on requests in flight unless --concurrency is given.
      return ["--request-rate", String(s.rate), "--arrival-pattern", profile.load.type];
    default:
      return `aiperf has no ${profile.load.type} load that matches hub's (its sweeps and searches are parameter sweeps over separate runs)`;
  }
}

/** Per-stage bounds, with limits.max_requests and limits.max_duration_s folded in. */
function bounds(profile: Profile, s: Stage, i: number, warnings: string[]): string[] {
  const { max_duration_s, max_requests } = profile.limits;
  const requests = s.requests !== undefined && max_requests !== undefined ? Math.min(s.requests, max_requests) : (s.requests ?? max_requests);
  const duration = s.duration_s !== undefined && max_duration_s !== undefined ? Math.min(s.duration_s, max_duration_s) : (s.duration_s ?? max_duration_s);
  if (i === 0 && max_duration_s !== undefined && profile.load.stages.length > 1) {
    warnings.push(`aiperf runs each stage as its own process: limits.max_duration_s (${max_duration_s} s) caps each of the ${profile.load.stages.length} stages instead of the whole run`);
  }
  const out: string[] = [];
  if (requests !== undefined) out.push("--request-count", String(requests));
  // aiperf stops sending at the duration and waits up to --benchmark-grace-period (30 s) for the
  // requests in flight; their responses count.
  if (duration !== undefined) out.push("--benchmark-duration", String(duration));
  return out;
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  const d = profile.data;
  if (d.type !== "random") return unsupported(`hub's ${d.type} data has no aiperf equivalent this adapter maps (random synthetic prompts only)`);
  const data = [...lengths("isl", d.input_tokens!, warnings), ...lengths("osl", d.output_tokens!, warnings)];

  const common = [
    "aiperf",
    "profile",
    "--model",
    ctx.model,
    "--url",
    ctx.target,
    "--endpoint-type",
    profile.api.type === "chat" ? "chat" : "completions",
    ...(profile.api.streaming ? ["--streaming"] : []),
    "--tokenizer",
    ctx.tokenizerDir,
    // The server's usage counts, not aiperf re-tokenizing every response: exact, and it keeps the
    // record processor off the CPU the client measures with.
    "--use-server-token-count",
    ...data,
    // Exactly the output length asked for.
    "--extra-inputs",
    "ignore_eos:true",
    "--random-seed",
    String(d.seed),
    "--ui-type",
    "none",
    "--no-server-metrics",
    "--no-gpu-telemetry",
  ];

  const invocations = [];
  for (const [i, s] of profile.load.stages.entries()) {
    const load = loadFlags(profile, s);
    if (typeof load === "string") return unsupported(load);
    invocations.push({
      argv: [...common, ...load, ...bounds(profile, s, i, warnings), "--artifact-dir", join(ctx.outputDir, stageDir(i))],
      // aiperf 0.13.0 with HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE set looks a local tokenizer
      // directory up as a Hub repo id and fails (Tokenizer._from_pretrained_local); unset, a
      // local path is loaded from disk without asking the Hub. Empty is "unset" to both.
      env: { HF_HUB_OFFLINE: "", TRANSFORMERS_OFFLINE: "" },
      stage: i,
    });
  }
  return { kind: "ok", invocations, warnings };
}

export default defineHarness({
  name: "aiperf",
  description: "NVIDIA aiperf: random synthetic prompts at concurrent, constant or Poisson load, one aiperf process per stage",
  version: VERSION,
  install: { kind: "pip", distribution: "aiperf", packages: [`aiperf==${VERSION}`], python: "3.11" },
  capabilities: [
    "api.completion",
    "api.chat",
    "api.non_streaming",
    "load.synchronous",
    "load.concurrent",
    "load.constant",
    "load.poisson",
    "load.multi_stage",
    "stage.duration",
    "stage.requests",
    "data.random",
    "data.length_distribution",
  ],
  translate,
  converter: aiperfConverter,
});
