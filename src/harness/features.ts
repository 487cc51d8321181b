import type { Profile } from "../profile/schema.ts";

/**
 * Profile features an adapter may or may not be able to express. A harness declares the ones it
 * supports; a profile needing any other is refused before anything runs.
 */
export const FEATURES = {
  "api.completion": "the /v1/completions API",
  "api.chat": "the /v1/chat/completions API",
  "api.non_streaming": "non-streaming requests",
  "load.synchronous": "one request at a time",
  "load.concurrent": "closed-loop concurrent streams",
  "load.constant": "open-loop arrivals at a constant rate",
  "load.poisson": "open-loop Poisson arrivals",
  "load.throughput": "maximum-throughput load",
  "load.sweep": "an automatic sweep from synchronous to throughput",
  "load.multi_stage": "several load stages in one run",
  "stage.duration": "stages bounded by time",
  "stage.requests": "stages bounded by a request count",
  "data.random": "random synthetic prompts",
  "data.shared_prefix": "shared-prefix synthetic prompts",
  "data.file": "prompts from a file",
  "data.length_distribution": "variable token lengths (stddev, min, max)",
  "limits.max_error_rate": "stopping a stage at an error rate",
} as const;

export type Feature = keyof typeof FEATURES;
export const ALL_FEATURES = Object.keys(FEATURES) as Feature[];

/** The features a profile uses. */
export function profileFeatures(profile: Profile): Feature[] {
  const f = new Set<Feature>();
  f.add(profile.api.type === "chat" ? "api.chat" : "api.completion");
  if (!profile.api.streaming) f.add("api.non_streaming");
  f.add(`load.${profile.load.type}`);
  if (profile.load.stages.length > 1) f.add("load.multi_stage");
  for (const s of profile.load.stages) {
    if (s.duration_s !== undefined) f.add("stage.duration");
    if (s.requests !== undefined) f.add("stage.requests");
  }
  f.add(`data.${profile.data.type}`);
  const varies = (d?: { stddev: number; min?: number; max?: number; mean: number }) =>
    d !== undefined && d.stddev > 0;
  if (varies(profile.data.input_tokens) || varies(profile.data.output_tokens)) f.add("data.length_distribution");
  if (profile.limits.max_error_rate !== undefined) f.add("limits.max_error_rate");
  return [...f];
}

export function missingFeatures(profile: Profile, supported: readonly Feature[]): Feature[] {
  return profileFeatures(profile).filter((f) => !supported.includes(f));
}
