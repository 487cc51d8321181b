import { join } from "node:path";
import { defineHarness, type Profile, type TranslateContext, type TranslateResult } from "harness-hub";
import { converter, RESULTS_FILE, VERSION } from "./converter.ts";

/**
 * The adapter: one harness-neutral profile → the command line(s) that make __NAME__ offer that
 * load. Everything here is an example for an imaginary tool: replace the flags with your tool's,
 * checked against the version you pin (`__NAME__ --help`, its source). docs/plugins.md in
 * harness-hub explains each field.
 *
 * Import only from "harness-hub": it is the public API, and the only module a plugin can rely on.
 */

const unsupported = (reason: string): TranslateResult => ({ kind: "unsupported", reason });

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const warnings: string[] = [];
  // hub refuses a profile that needs a feature missing from `capabilities` before translate is
  // called. Refuse here, with a reason, whatever else the tool cannot express.
  const stage = profile.load.stages[0]!;
  if (profile.load.type !== "concurrent") return unsupported(`__NAME__ runs only closed-loop concurrent load, not ${profile.load.type}`);
  const input = profile.data.input_tokens;
  const output = profile.data.output_tokens;
  if (!input || !output) return unsupported("__NAME__ needs fixed prompt and output lengths (data.input_tokens, data.output_tokens)");
  if (profile.limits.max_requests !== undefined) warnings.push("__NAME__ has no per-stage request cap; limits.max_requests is ignored");

  const argv = [
    "__NAME__",
    "--url",
    ctx.target,
    "--model",
    ctx.model,
    // A local Hugging Face tokenizer directory: harnesses run offline.
    "--tokenizer",
    ctx.tokenizerDir,
    "--endpoint",
    profile.api.type === "chat" ? "chat" : "completions",
    "--concurrency",
    String(stage.concurrency),
    ...(stage.duration_s !== undefined ? ["--duration", String(stage.duration_s)] : ["--requests", String(stage.requests)]),
    "--input-tokens",
    String(input.mean),
    "--output-tokens",
    String(output.mean),
    "--seed",
    String(profile.data.seed),
    // Write into ctx.outputDir (the run's native/ folder): the converter reads it from there.
    "--out",
    join(ctx.outputDir, RESULTS_FILE),
  ];
  // env: anything the tool needs; hub already sets HF_HUB_OFFLINE=1 and TRANSFORMERS_OFFLINE=1.
  return { kind: "ok", invocations: [{ argv }], warnings };
}

export default defineHarness({
  name: "__NAME__",
  description: "__NAME__ (harness-hub plugin): closed-loop concurrent load with fixed-length random prompts",
  // The version hub installs and this plugin was checked against.
  version: VERSION,
  // hub creates a venv per harness and version, and pip-installs these into it.
  install: { kind: "pip", distribution: "__NAME__", packages: [`__NAME__==${VERSION}`] },
  // The profile features translate can express (harness-hub's FEATURES lists them all).
  capabilities: ["api.completion", "api.chat", "load.concurrent", "stage.duration", "stage.requests", "data.random"],
  translate,
  converter,
});
