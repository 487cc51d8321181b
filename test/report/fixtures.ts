/** The committed real runs (test/fixtures/runs/README.md says how each was made), in name order. */
export const FIXTURE_RUNS = [
  "test/fixtures/runs/guidellm-random_concurrent",
  "test/fixtures/runs/guidellm-sanity_concurrent",
  "test/fixtures/runs/guidellm-sanity_random",
  "test/fixtures/runs/inference-perf-random_concurrent",
  "test/fixtures/runs/inference-perf-sanity_concurrent",
] as const;

/**
 * What the golden files compare: the same two profiles run by each harness that has fixtures,
 * one single-stage pair and one four-stage concurrency ladder.
 */
export const GOLDEN_RUNS: string[] = [
  "test/fixtures/runs/guidellm-sanity_concurrent",
  "test/fixtures/runs/inference-perf-sanity_concurrent",
  "test/fixtures/runs/guidellm-random_concurrent",
  "test/fixtures/runs/inference-perf-random_concurrent",
];
