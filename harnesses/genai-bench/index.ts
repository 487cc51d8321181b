import { join } from "node:path";
import { defineHarness, type Profile, type TranslateContext, type TranslateResult } from "harness-hub";
import { EXPERIMENT_FOLDER, genaiBenchConverter, VERSION } from "./converter.ts";

/**
 * sgl-project genai-bench 0.0.5 (`genai-bench benchmark`), written only against harness-hub's
 * public API: this folder loads unchanged as an external plugin (test/e2e/external-plugin.test.ts
 * copies it out of the repository and loads it with --plugin). Checked against the installed
 * 0.0.5 source (cli/cli.py, cli/utils.py, user/openai_user.py, scenarios/text.py,
 * metrics/aggregated_metrics_collector.py); see test/fixtures/genai-bench/0.0.5/README.md.
 *
 * What 0.0.5 can do, and so what this adapter maps:
 * - text-to-text always streams to /v1/chat/completions: no completions API, no non-streaming.
 * - Load is Locust users, closed loop: one run per --num-concurrency value, in order, every run
 *   with the same bounds. hub's concurrent stages (and synchronous, concurrency 1) map onto it.
 * - A run ends at --max-time-per-run, in whole **minutes**, or once --max-requests-per-run
 *   requests have finished (checked once a second; both are required).
 * - Lengths: D(in,out) fixed, N(mean,sd)/(mean,sd) normal (clipped at 1 only, unseeded).
 */

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

type Stage = Profile["load"]["stages"][number];
type LengthDistribution = NonNullable<Profile["data"]["input_tokens"]>;

/** A request bound for runs that set none: genai-bench requires one; the time bound ends them. */
const NO_REQUEST_BOUND = 1_000_000;
/** A time bound for runs bounded only by requests: genai-bench requires one (minutes). */
const NO_TIME_BOUND_MIN = 60;

function scenario(input: LengthDistribution, output: LengthDistribution, warnings: string[]): string {
  if (input.stddev === 0 && output.stddev === 0) return `D(${input.mean},${output.mean})`;
  if ([input, output].some((d) => d.stddev > 0 && (d.min !== undefined || d.max !== undefined))) {
    warnings.push("genai-bench draws lengths from a normal clipped only at 1 token: the profile's min/max lengths are not applied");
  }
  warnings.push("genai-bench has no seed for its length sampling: lengths differ from run to run (data.seed is not applied)");
  return `N(${input.mean},${input.stddev})/(${output.mean},${output.stddev})`;
}

/** One --max-time-per-run and --max-requests-per-run for every stage, or why not. */
function bounds(profile: Profile, warnings: string[]): { minutes: number; requests: number } | string {
  const { stages } = profile.load;
  const { max_duration_s, max_requests } = profile.limits;
  const same = (pick: (s: Stage) => number | undefined) => stages.every((s) => pick(s) === pick(stages[0]!));
  if (!same((s) => s.duration_s) || !same((s) => s.requests)) {
    return "genai-bench gives every concurrency level the same time and request bounds; give every stage the same duration_s and requests";
  }
  const s = stages[0]!;
  const seconds = s.duration_s !== undefined && max_duration_s !== undefined ? Math.min(s.duration_s, max_duration_s) : (s.duration_s ?? max_duration_s);
  const requests = s.requests !== undefined && max_requests !== undefined ? Math.min(s.requests, max_requests) : (s.requests ?? max_requests);
  if (max_duration_s !== undefined && stages.length > 1) {
    warnings.push(`genai-bench has no whole-run time limit: limits.max_duration_s (${max_duration_s} s) caps each of the ${stages.length} stages instead`);
  }

  let minutes = NO_TIME_BOUND_MIN;
  if (seconds !== undefined) {
    minutes = Math.max(1, Math.round(seconds / 60));
    if (minutes * 60 !== seconds) {
      warnings.push(`genai-bench bounds a run in whole minutes (--max-time-per-run): ${seconds} s runs as ${minutes} min${requests !== undefined ? ` or ${requests} requests, whichever comes first` : ""}`);
    }
  } else {
    warnings.push(`genai-bench needs a time bound: --max-time-per-run ${NO_TIME_BOUND_MIN} (minutes) with the ${requests} requests`);
  }
  if (requests !== undefined) {
    warnings.push("genai-bench checks its request bound once a second and drops the requests still in flight when it stops a run: a run may count a few more requests than asked for, and the server sees a few aborted ones");
  }
  return { minutes, requests: requests ?? NO_REQUEST_BOUND };
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  const { load, data } = profile;
  if (profile.api.type !== "chat") return unsupported("genai-bench 0.0.5 sends text only to /v1/chat/completions; run the profile with -o api.type=chat");
  if (!profile.api.streaming) return unsupported("genai-bench 0.0.5 always streams text-to-text requests");
  if (load.type !== "concurrent" && load.type !== "synchronous") return unsupported(`genai-bench 0.0.5 runs only closed-loop concurrency (Locust users), not ${load.type} load`);
  if (data.type !== "random") return unsupported(`genai-bench 0.0.5's traffic scenarios are random lengths of its own text; hub's ${data.type} data has no equivalent`);

  const concurrency = load.type === "synchronous" ? load.stages.map(() => 1) : load.stages.map((s) => s.concurrency!);
  if (new Set(concurrency).size !== concurrency.length) {
    return unsupported(`genai-bench names each run's output after its concurrency, so two stages cannot both run concurrency ${concurrency.find((c, i) => concurrency.indexOf(c) !== i)}`);
  }
  const b = bounds(profile, warnings);
  if (typeof b === "string") return unsupported(b);

  const argv = [
    "genai-bench",
    "benchmark",
    // vllm: sends ignore_eos with max_tokens, so every request has exactly the asked output length.
    "--api-backend",
    "vllm",
    "--api-base",
    ctx.target,
    // Required for the vllm backend; sent as a bearer token. hub's targets need none.
    "--api-key",
    "harness-hub",
    "--api-model-name",
    ctx.model,
    "--model",
    ctx.model,
    "--model-tokenizer",
    ctx.tokenizerDir,
    "--task",
    "text-to-text",
    "--traffic-scenario",
    scenario(data.input_tokens!, data.output_tokens!, warnings),
    ...concurrency.flatMap((c) => ["--num-concurrency", String(c)]),
    "--max-time-per-run",
    String(b.minutes),
    "--max-requests-per-run",
    String(b.requests),
    "--metrics-time-unit",
    "s",
    "--experiment-base-dir",
    ctx.outputDir,
    "--experiment-folder-name",
    EXPERIMENT_FOLDER,
    "--log-dir",
    join(ctx.outputDir, "logs"),
  ];
  // ENABLE_UI=false: genai-bench's Rich dashboard redraws its live plots (2/s and on every
  // request) in the one gevent thread that also times the requests; off, it uses its minimal one.
  return { kind: "ok", invocations: [{ argv, env: { ENABLE_UI: "false" } }], warnings };
}

export default defineHarness({
  name: "genai-bench",
  description: "sgl-project genai-bench: chat streams at one or more closed-loop concurrency levels, fixed or normal random lengths",
  version: VERSION,
  // 0.0.5 supports Python >= 3.10, < 3.13. No torch: it only prints that PyTorch was not found.
  install: { kind: "pip", distribution: "genai-bench", packages: [`genai-bench==${VERSION}`], python: "3.10" },
  capabilities: ["api.chat", "load.synchronous", "load.concurrent", "load.multi_stage", "stage.duration", "stage.requests", "data.random", "data.length_distribution"],
  translate,
  converter: genaiBenchConverter,
});
