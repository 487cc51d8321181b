/**
 * harness-hub's public API: what a harness plugin and a program embedding hub may use.
 * See docs/plugins.md.
 */
export { defineHarness } from "./harness/contract.ts";
export type {
  Converter,
  ConvertContext,
  ConvertResult,
  HarnessDefinition,
  Invocation,
  PipInstall,
  TranslateContext,
  TranslateResult,
} from "./harness/contract.ts";
export { FEATURES, profileFeatures, type Feature } from "./harness/features.ts";
export type { RequestRecord } from "./metrics/records.ts";
export { computeStage, type StageInput, type NativeDistribution } from "./metrics/compute.ts";
export { summarize, percentile } from "./metrics/stats.ts";
export { Metrics, type Distribution, type Stage } from "./metrics/schema.ts";
export { Profile, type ProfileInput } from "./profile/schema.ts";
export { loadProfile } from "./profile/load.ts";
export type { RunOptions } from "./run/run.ts";
export type { Reporter, RunOutcome } from "./report/reporter.ts";
export { UserError } from "./errors.ts";

/**
 * Runs a profile with a harness (see `hub run`). Loaded on first call: the run module reaches the
 * built-in harnesses, which themselves import this entry, so a static import would be a cycle.
 */
export async function runBenchmark(...args: Parameters<typeof import("./run/run.ts").runBenchmark>) {
  const { runBenchmark: run } = await import("./run/run.ts");
  return run(...args);
}
