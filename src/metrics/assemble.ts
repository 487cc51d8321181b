import { formatIssues } from "../profile/load.ts";
import { computeStage, type StageInput } from "./compute.ts";
import { METRICS_SCHEMA_VERSION, Metrics, type Startup } from "./schema.ts";

export type RunFacts = Metrics["run"];

/** A harness output hub cannot turn into numbers it would stand behind: exit 1, naming why. */
export class InvalidOutputError extends Error {
  override name = "InvalidOutputError";
}

export interface Assembled {
  metrics: Metrics;
  /** Records dropped as impossible, per stage, for the run's warnings. */
  warnings: string[];
}

/**
 * Builds metrics.json and checks it against the schema. Impossible records are dropped with a
 * warning; when a stage had records and none is left, or a value breaks the schema, the whole
 * conversion fails with an InvalidOutputError that names the stage and field.
 */
export function assembleMetrics(run: RunFacts, stages: readonly StageInput[], startup?: Startup): Assembled {
  const warnings: string[] = [];
  const computed = stages.map((input) => {
    const stage = computeStage(input);
    const dropped = stage.notes.filter((n) => n.startsWith("dropped "));
    for (const d of dropped) warnings.push(`stage ${input.index}: ${d}`);
    if (input.records.length > 0 && stage.requests.total === 0) {
      throw new InvalidOutputError(`stage ${input.index}: all ${input.records.length} request records are impossible (${dropped.join("; ")})`);
    }
    return stage;
  });
  const parsed = Metrics.safeParse({ schema_version: METRICS_SCHEMA_VERSION, run, stages: computed, ...(startup ? { startup } : {}) });
  if (!parsed.success) throw new InvalidOutputError(`the harness output gives values metrics.json cannot hold:\n${formatIssues(parsed.error.issues.slice(0, 5))}`);
  return { metrics: parsed.data, warnings };
}
