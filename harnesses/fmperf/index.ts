import { readFileSync } from "node:fs";
import { fmperfConverter } from "../../converters/fmperf.ts";
import { defineHarness, type Invocation, type TranslateContext, type TranslateResult } from "../../src/harness/contract.ts";
import type { LengthDistribution, Profile } from "../../src/profile/schema.ts";

/**
 * fmperf's standalone load generator (fmperf.loadgen), configured entirely by environment
 * variables. fmperf is on no package index and stopped development in 2025: hub installs it from
 * a source directory or wheel the user gives (`hub harness install fmperf --from <path>`), or runs
 * its own image (`--runtime docker --image <fmperf image>`). Checked against fmperf-project/fmperf
 * commit 8d85bc3d145c42577c980358b198eb10e3c7f6be (version 0.0.1, the last); see
 * test/fixtures/fmperf/README.md.
 *
 * A run is: hub_fmperf_setup.py (makes the served model's id resolve to hub's tokenizer),
 * `python -m fmperf.loadgen.generate-input` (SAMPLE_SIZE distinct requests, each sent once to
 * record its expected token stream), then the load: `python -m fmperf.loadgen.run` once per stage
 * (NUM_USERS closed-loop users for DURATION), or `python -m fmperf.loadgen.sweep` (SWEEP_USERS)
 * when every stage has the same duration and a different user count.
 */

const SETUP_SCRIPT = "hub_fmperf_setup.py";
const SETUP_SOURCE = readFileSync(new URL(`./${SETUP_SCRIPT}`, import.meta.url), "utf8");

/** File names hub gives fmperf's outputs in the output directory. */
export const FMPERF_FILES = {
  requests: "requests.json",
  stage: (i: number) => `results_stage${i}.json`,
  sweepAll: "results_all.json",
} as const;

/** fmperf's own defaults (fmperf.WorkloadSpecs / Cluster.evaluate). */
const SAMPLE_SIZE = 10;
const BACKOFF = "3s";
const GRACE_PERIOD = "10s";
/** fmperf seeds its request generation with np.random.seed(42) and the request's sampling seed with 42. */
const FMPERF_SEED = 42;

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

/**
 * fmperf draws every length uniformly from [MIN, MAX]. A fixed length is MIN = MAX; a spread is
 * the profile's [min, max], or else mean ± √3·stddev (the uniform range with that stddev).
 */
function tokenRange(what: "input" | "output", d: LengthDistribution, warnings: string[]): [number, number] {
  if (d.stddev === 0) return [d.mean, d.mean];
  const half = Math.sqrt(3) * d.stddev;
  const lo = d.min ?? Math.max(1, Math.round(d.mean - half));
  const hi = d.max ?? Math.round(d.mean + half);
  warnings.push(
    `fmperf draws ${what} lengths uniformly from [${lo}, ${hi}] instead of a normal distribution (mean ${d.mean}, stddev ${d.stddev})`,
  );
  return [lo, hi];
}

/** fmperf's DURATION (the `durations` package): whole seconds. */
function seconds(s: number, i: number, warnings: string[]): string {
  const whole = Math.max(1, Math.round(s));
  if (whole !== s) warnings.push(`stage ${i}: fmperf is given whole seconds: duration ${s} s sent as ${whole} s`);
  return `${whole}s`;
}

/** host:port[/prefix], fmperf's URL: it prepends http:// itself. */
function fmperfUrl(target: string): string | undefined {
  const u = new URL(target);
  if (u.protocol !== "http:") return undefined;
  return `${u.host}${u.pathname.replace(/\/+$/, "")}`;
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  if (profile.api.type !== "completion") return unsupported("fmperf sends only /v1/completions requests");
  if (!profile.api.streaming) return unsupported("fmperf only streams: it times every token of a streamed response");
  if (profile.data.type !== "random") return unsupported(`fmperf generates its own prompts; it cannot send ${profile.data.type} data`);
  const { load, limits } = profile;
  if (load.type !== "concurrent" && load.type !== "synchronous") {
    return unsupported(`fmperf runs closed-loop users only (NUM_USERS); it cannot run ${load.type} load`);
  }
  if (limits.max_requests !== undefined) return unsupported("fmperf bounds a stage by time only (DURATION); it cannot stop after limits.max_requests");
  const url = fmperfUrl(ctx.target);
  if (!url) return unsupported(`fmperf speaks plain http only; cannot reach ${ctx.target}`);

  const stages = load.stages.map((s, i) => {
    const cap = limits.max_duration_s;
    const duration = s.duration_s === undefined ? undefined : cap === undefined ? s.duration_s : Math.min(s.duration_s, cap);
    return { users: load.type === "synchronous" ? 1 : s.concurrency!, duration, i };
  });
  const unbounded = stages.find((s) => s.duration === undefined);
  if (unbounded) return unsupported(`stage ${unbounded.i}: fmperf bounds a stage by time only (DURATION); give it duration_s`);
  if (limits.max_duration_s !== undefined && stages.length > 1) {
    warnings.push(`fmperf has no whole-run time limit: limits.max_duration_s (${limits.max_duration_s} s) caps each of the ${stages.length} stages instead`);
  }

  const [minIn, maxIn] = tokenRange("input", profile.data.input_tokens!, warnings);
  const [minOut, maxOut] = tokenRange("output", profile.data.output_tokens!, warnings);
  if (profile.data.seed !== FMPERF_SEED) warnings.push(`fmperf always seeds with ${FMPERF_SEED}: data.seed ${profile.data.seed} is not used`);
  warnings.push(
    `fmperf's prompts are the last N tokens of one seed text (fmperf/data/ai.txt), not random text: requests of the same length share their prompt`,
    `fmperf sends ${SAMPLE_SIZE} distinct requests once each to record their expected output (generate-input), then samples the load from them`,
  );

  const common: Record<string, string> = {
    TARGET: "vllm",
    URL: url,
    REQUESTS_DIR: ctx.outputDir,
    REQUESTS_FILENAME: FMPERF_FILES.requests,
    BACKOFF,
    GRACE_PERIOD,
  };
  const invocations: Invocation[] = [
    { argv: ["python", SETUP_SCRIPT, ctx.target, ctx.model, ctx.tokenizerDir], files: { [SETUP_SCRIPT]: SETUP_SOURCE } },
    {
      argv: ["python", "-m", "fmperf.loadgen.generate-input"],
      env: {
        ...common,
        SAMPLE_SIZE: String(SAMPLE_SIZE),
        MIN_INPUT_TOKENS: String(minIn),
        MAX_INPUT_TOKENS: String(maxIn),
        MIN_OUTPUT_TOKENS: String(minOut),
        MAX_OUTPUT_TOKENS: String(maxOut),
        FRAC_GREEDY: "1.0",
        CODE: "false",
        OVERWRITE: "true",
      },
    },
  ];

  const durations = stages.map((s) => seconds(s.duration!, s.i, warnings));
  const users = stages.map((s) => s.users);
  const sweep = stages.length > 1 && durations.every((d) => d === durations[0]) && new Set(users).size === users.length;
  if (sweep) {
    invocations.push({
      argv: ["python", "-m", "fmperf.loadgen.sweep"],
      env: { ...common, SWEEP_USERS: users.join(","), DURATION: durations[0]!, RESULTS_ALL_FILENAME: FMPERF_FILES.sweepAll },
    });
  } else {
    for (const s of stages) {
      invocations.push({
        argv: ["python", "-m", "fmperf.loadgen.run"],
        env: { ...common, NUM_USERS: String(s.users), DURATION: durations[s.i]!, RESULTS_FILENAME: FMPERF_FILES.stage(s.i) },
        stage: s.i,
      });
    }
  }
  return { kind: "ok", invocations, warnings };
}

export default defineHarness({
  name: "fmperf",
  description: "fmperf-project's fmperf load generator (unmaintained since 2025; install with --from): closed-loop users on /v1/completions, timed per token",
  version: "0.0.1",
  install: {
    kind: "pip",
    distribution: "fmperf",
    // fmperf's setup.py declares no dependencies: these are its requirements.txt (kubernetes pinned
    // there), plus what its loadgen imports unconditionally (grpcio, protobuf, requests, pytest for
    // fmperf.utils.approx, whose _pytest.python_api pytest 9 removed), at versions of mid-2025.
    packages: [
      "durations==0.3.3",
      "kubernetes==24.2.0",
      "pandas==2.3.1",
      "PyYAML==6.0.2",
      "scikit-learn==1.7.1",
      "sentencepiece==0.2.0",
      "transformers==4.54.1",
      "grpcio==1.74.0",
      "protobuf==6.31.1",
      "requests==2.32.4",
      "pytest==8.4.1",
      "numpy==2.3.2",
    ],
    python: "3.10",
  },
  capabilities: ["api.completion", "load.synchronous", "load.concurrent", "load.multi_stage", "stage.duration", "data.random", "data.length_distribution"],
  translate,
  converter: fmperfConverter,
});
