import { join } from "node:path";
import { guidellmConverter } from "../../converters/guidellm.ts";
import { defineHarness, type TranslateContext, type TranslateResult } from "../../src/harness/contract.ts";
import type { LengthDistribution, Profile } from "../../src/profile/schema.ts";

/**
 * guidellm 0.8.1 (`guidellm run`). Every option is passed as a JSON object, which 0.8.1 accepts
 * in place of `kind=..,k=v` and which survives any value a YAML profile can hold. Checked against
 * the installed 0.8.1 source; see test/fixtures/guidellm/0.8.1/README.md for what a run does.
 */

type Json = Record<string, unknown>;
type Stage = Profile["load"]["stages"][number];

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

/**
 * A value that may differ per stage: the spec holds stage 0's value, and `--override <key> v0,v1,..`
 * gives each of guidellm's sub-benchmarks its own (0.8.1's documented form; lists inside the
 * spec still work but print a FutureWarning).
 */
interface PerStage {
  key: string;
  values: number[];
}
/**
 * guidellm's synthetic length fields. Its sampler draws from a normal clipped to [min, max]
 * like hub's, but with stdev unset and min/max set it draws uniformly, so a fixed length must
 * not carry min/max. stdev must be a positive integer.
 */
function lengthFields(prefix: "prompt_tokens" | "output_tokens", d: LengthDistribution, warnings: string[]): Json {
  const out: Json = { [prefix]: d.mean };
  const stdev = Math.round(d.stddev);
  if (stdev !== d.stddev) warnings.push(`guidellm takes whole-token standard deviations: ${prefix} stddev ${d.stddev} sent as ${stdev}`);
  if (stdev <= 0) return out;
  out[`${prefix}_stdev`] = stdev;
  if (d.min !== undefined) out[`${prefix}_min`] = d.min;
  if (d.max !== undefined) out[`${prefix}_max`] = d.max;
  return out;
}

/** A spec plus the per-stage overrides that go with it. */
interface Spec {
  spec: Json;
  overrides: PerStage[];
}

/**
 * Stage 0's value in the spec, and an override when the stages differ. The load's override is
 * always given for several stages: the longest override list sets how many strategies run.
 */
function staged(spec: Json, field: string, key: string, values: number[], always = false): Spec {
  const same = values.every((v) => v === values[0]);
  return { spec: { ...spec, [field]: values[0]! }, overrides: (always && values.length > 1) || !same ? [{ key, values }] : [] };
}

function profileSpec(profile: Profile): Spec | string {
  const { load } = profile;
  const stages = load.stages;
  const single = (what: string) =>
    `guidellm runs load type ${what} as one strategy, so it cannot run ${stages.length} stages of it in one run; use one stage`;
  switch (load.type) {
    case "synchronous":
      if (stages.length > 1) return single("synchronous");
      return { spec: { kind: "synchronous" }, overrides: [] };
    case "throughput":
      if (stages.length > 1) return single("throughput");
      // 0.8.1 requires the key even when there is no cap.
      return { spec: { kind: "throughput", max_concurrency: stages[0]!.concurrency ?? null }, overrides: [] };
    case "concurrent":
      return staged({ kind: "concurrent" }, "streams", "profile.streams", stages.map((s) => s.concurrency!), true);
    case "constant":
    case "poisson":
      return staged({ kind: load.type }, "rate", "profile.rate", stages.map((s) => s.rate!), true);
    case "sweep":
      // Every sweep point runs with the one stage's bounds.
      return { spec: { kind: "sweep", sweep_size: load.sweep?.points ?? 10, strategy_type: "constant" }, overrides: [] };
  }
}

/** Per-stage time and request bounds, with the profile's limits folded in. */
function constraints(profile: Profile, warnings: string[]): Spec[] | string {
  const { stages } = profile.load;
  const { max_duration_s, max_requests, max_error_rate } = profile.limits;
  const out: Spec[] = [];

  const bound = (kind: "max_duration" | "max_requests", field: "seconds" | "count", pick: (s: Stage) => number | undefined, cap: number | undefined) => {
    const values = stages.map((s) => {
      const v = pick(s);
      return v === undefined ? cap : cap === undefined ? v : Math.min(v, cap);
    });
    const given = values.filter((v) => v !== undefined).length;
    if (given === 0) return undefined;
    if (given < values.length) {
      const name = field === "seconds" ? "duration_s" : "requests";
      return `guidellm bounds either every stage or none by ${name}, but only ${given} of ${values.length} stages set ${name}; give every stage the same kind of bound`;
    }
    out.push(staged({ kind }, field, `constraints[${out.length}].${field}`, values as number[]));
    return undefined;
  };
  const refused =
    bound("max_duration", "seconds", (s) => s.duration_s, max_duration_s) ?? bound("max_requests", "count", (s) => s.requests, max_requests);
  if (refused) return refused;

  if (max_duration_s !== undefined) {
    const runs = profile.load.type === "sweep" ? (profile.load.sweep?.points ?? 10) : stages.length;
    if (runs > 1) warnings.push(`guidellm has no whole-run time limit: limits.max_duration_s (${max_duration_s} s) caps each of the ${runs} stages instead`);
  }

  if (max_error_rate !== undefined) {
    if (max_error_rate === 0) {
      out.push({ spec: { kind: "max_errors", count: 1 }, overrides: [] });
    } else if (max_error_rate >= 1) {
      warnings.push("limits.max_error_rate 1 can never stop a stage early; not passed to guidellm");
    } else {
      // Per stage, over all of the stage's finished requests; guidellm checks it only once 30
      // have finished (settings.constraint_error_min_processed).
      out.push({ spec: { kind: "max_global_error_rate", rate: max_error_rate }, overrides: [] });
      warnings.push("guidellm checks limits.max_error_rate only after a stage has finished 30 requests");
    }
  }
  return out;
}

function dataSpec(profile: Profile, warnings: string[]): { data: Json; backend: Json } | string {
  const d = profile.data;
  const out = d.output_tokens ? lengthFields("output_tokens", d.output_tokens, warnings) : {};
  switch (d.type) {
    case "random":
      return { data: { kind: "synthetic_text", ...lengthFields("prompt_tokens", d.input_tokens!, warnings), ...out }, backend: {} };
    case "shared_prefix": {
      const sp = d.shared_prefix!;
      warnings.push(
        `guidellm picks one of the ${sp.groups} prefixes at random for each request and writes a new question every time: ` +
          `prompts_per_group (${sp.prompts_per_group}) is not enforced`,
      );
      if (d.input_tokens) warnings.push("data.input_tokens is ignored for shared_prefix data; the prompt is prefix_tokens + question_tokens");
      return {
        data: { kind: "synthetic_text", prompt_tokens: sp.question_tokens, prefix_tokens: sp.prefix_tokens, prefix_count: sp.groups, ...out },
        backend: {},
      };
    }
    case "file": {
      const path = d.path!;
      if (!/\.jsonl?$/i.test(path)) return `guidellm 0.8.1 reads prompt files only as .json or .jsonl (got ${path})`;
      warnings.push("guidellm sends each prompt of the file once per stage and ends the stage early when the file runs out");
      if (!d.output_tokens) return { data: { kind: "json_file", path }, backend: {} };
      // File rows carry no output length: one max_tokens for all requests, EOS ignored.
      if (d.output_tokens.stddev > 0) warnings.push(`guidellm cannot vary output lengths for file prompts: every request asks for ${d.output_tokens.mean} tokens`);
      return { data: { kind: "json_file", path }, backend: { max_tokens: d.output_tokens.mean, extras: { body: { ignore_eos: true } } } };
    }
  }
}

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  const prof = profileSpec(profile);
  if (typeof prof === "string") return unsupported(prof);
  const cons = constraints(profile, warnings);
  if (typeof cons === "string") return unsupported(cons);
  const data = dataSpec(profile, warnings);
  if (typeof data === "string") return unsupported(data);

  const backend: Json = {
    kind: "openai_http",
    target: ctx.target,
    model: ctx.model,
    request_format: profile.api.type === "chat" ? "/v1/chat/completions" : "/v1/completions",
    // With an output length in the data, guidellm itself sends max_tokens (chat:
    // max_completion_tokens), ignore_eos: true and stop: null on every request.
    stream: profile.api.streaming,
    ...data.backend,
  };
  const opt = (name: string, value: Json) => [`--${name}`, JSON.stringify(value)];
  const overrides = [prof, ...cons].flatMap((x) => x.overrides).flatMap((o) => ["--override", o.key, o.values.join(",")]);

  const argv = [
    "guidellm",
    "run",
    ...opt("backend", backend),
    ...opt("tokenizer", { kind: "huggingface_auto", model: ctx.tokenizerDir }),
    ...opt("data", data.data),
    ...opt("profile", prof.spec),
    ...cons.flatMap((c) => opt("constraint", c.spec)),
    ...overrides,
    ...opt("seed", { kind: "static", value: profile.data.seed }),
    // sample_size 0: keep the timing stats of every request (what the converter recomputes from)
    // and drop prompt and output texts. The default keeps texts, a sample > 0 drops requests.
    ...opt("metrics", { kind: "generative", sample_size: 0 }),
    ...opt("output", { kind: "json", path: join(ctx.outputDir, "benchmarks.json") }),
    "--disable-console-interactive",
  ];
  return { kind: "ok", invocations: [{ argv }], warnings };
}

export default defineHarness({
  name: "guidellm",
  description: "vLLM project's guidellm: synthetic or file prompts at synchronous, concurrent, constant, Poisson, throughput or sweep load",
  version: "0.8.1",
  install: { kind: "pip", distribution: "guidellm", packages: ["guidellm==0.8.1"], torch: true },
  capabilities: [
    "api.completion",
    "api.chat",
    "api.non_streaming",
    "load.synchronous",
    "load.concurrent",
    "load.constant",
    "load.poisson",
    "load.throughput",
    "load.sweep",
    "load.multi_stage",
    "stage.duration",
    "stage.requests",
    "data.random",
    "data.shared_prefix",
    "data.file",
    "data.length_distribution",
    "limits.max_error_rate",
  ],
  translate,
  converter: guidellmConverter,
});
