import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "harnesses/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 600_000,
    // The end-to-end suites start real harness processes; two cores cannot run many at once.
    maxWorkers: 2,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest.json" }]],
  },
});
