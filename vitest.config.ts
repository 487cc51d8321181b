import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  // A checkout's "harness-hub" is its source (package.json's "source" export condition).
  resolve: { alias: { "harness-hub": fileURLToPath(new URL("./src/index.ts", import.meta.url)) } },
  test: {
    testTimeout: 30_000,
    hookTimeout: 600_000,
    reporters: ["default", ["json", { outputFile: "test-artifacts/vitest.json" }]],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts", "harnesses/**/*.test.ts"],
          exclude: ["test/e2e/**"],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // Real harnesses against the simulator, checked against latency tolerances: one file at a
        // time, after the unit tests, so two harnesses never compete for the two cores.
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 600_000,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
