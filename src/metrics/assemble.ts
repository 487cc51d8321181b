import { computeStage, type StageInput } from "./compute.ts";
import { METRICS_SCHEMA_VERSION, Metrics, type Startup } from "./schema.ts";

export type RunFacts = Metrics["run"];

/** Builds metrics.json and checks it against the schema (a failure here is a hub bug). */
export function assembleMetrics(run: RunFacts, stages: readonly StageInput[], startup?: Startup): Metrics {
  return Metrics.parse({ schema_version: METRICS_SCHEMA_VERSION, run, stages: stages.map(computeStage), ...(startup ? { startup } : {}) });
}
