/**
 * --parallel 2 with real harnesses on the local runtime against hub's simulator (checks in
 * parallel-cases.ts; kubernetes.test.ts runs the same on a real cluster).
 */
import { describe, it } from "vitest";
import { checkParallelRun, PARALLEL_CASES } from "./parallel-cases.ts";

describe("--parallel 2 on the local runtime", () => {
  for (const c of PARALLEL_CASES) {
    it(`${c.harness}: one merged result equal to the trace`, { timeout: 300_000 }, async () => {
      await checkParallelRun(c, []);
    });
  }
});

