/** The committed real runs (test/fixtures/runs/README.md says how each was made). */
export const FIXTURE_RUNS = [
  "test/fixtures/runs/guidellm-sanity_concurrent",
  "test/fixtures/runs/guidellm-random_concurrent",
  "test/fixtures/runs/guidellm-sanity_random",
] as const;

/** The runs the golden files compare: one per harness once several harnesses have fixtures. */
export const GOLDEN_RUNS: string[] = [...FIXTURE_RUNS];
