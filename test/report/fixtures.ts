/** The committed real runs (test/fixtures/runs/README.md says how each was made), in name order. */
export const FIXTURE_RUNS = [
  "test/fixtures/runs/aiperf-random_concurrent",
  "test/fixtures/runs/aiperf-sanity_concurrent",
  "test/fixtures/runs/guidellm-random_concurrent",
  "test/fixtures/runs/guidellm-sanity_concurrent",
  "test/fixtures/runs/guidellm-sanity_random",
  "test/fixtures/runs/inference-perf-random_concurrent",
  "test/fixtures/runs/inference-perf-sanity_concurrent",
  "test/fixtures/runs/vllm-benchmark-sanity_concurrent",
] as const;

/**
 * What the golden files and the browser test compare: the same two profiles run by three
 * harnesses, a single-stage one and a four-stage concurrency ladder.
 */
export const GOLDEN_RUNS: string[] = [
  "test/fixtures/runs/guidellm-sanity_concurrent",
  "test/fixtures/runs/inference-perf-sanity_concurrent",
  "test/fixtures/runs/aiperf-sanity_concurrent",
  "test/fixtures/runs/guidellm-random_concurrent",
  "test/fixtures/runs/inference-perf-random_concurrent",
  "test/fixtures/runs/aiperf-random_concurrent",
];
