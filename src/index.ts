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
export { runBenchmark, type RunOptions } from "./run/run.ts";
export type { Reporter, RunOutcome } from "./report/reporter.ts";
export { UserError } from "./errors.ts";
