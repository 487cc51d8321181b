/**
 * `hub calibrate` for real: the CLI runs guidellm, inference-perf and vllm-benchmark against the
 * simulator at the steady and the jittered setting (shortened to 8 requests per run), prints the
 * error table and writes calibration.json. Installs the harness environments on first use
 * (`.ci/run` does it up front).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { CalibrationResult } from "../../src/calibrate/types.ts";
import { allHarnesses, getHarness } from "../../src/harness/registry.ts";
import { installHarness } from "../../src/runtime/python.ts";
import { hub, readValidMetrics, tempOut } from "./helpers.ts";

/** The three the issue names; one not yet in the registry is left out, and the test says so. */
const WANTED = ["guidellm", "inference-perf", "vllm-benchmark"];
const HARNESSES = WANTED.filter((n) => allHarnesses().some((h) => h.name === n));

describe("hub calibrate end to end", () => {
  const missing = WANTED.filter((n) => !HARNESSES.includes(n));
  if (missing.length > 0) it.skip(`calibrates ${missing.join(", ")} too (not in the harness registry yet)`, () => {});

  beforeAll(async () => {
    for (const name of HARNESSES) {
      const installed = await installHarness(getHarness(name));
      if (installed.kind === "failed") throw new Error(`${name}: ${installed.reason}`);
    }
  });

  it("prints each harness's error against the simulator's trace and passes the 10% bar", { timeout: 900_000 }, async () => {
    const out = tempOut("calibrate");
    const r = await hub(["calibrate", "--harness", HARNESSES.join(","), "--requests", "8", "--out", out], 900_000);
    expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);

    // The table: a block per setting, a row group per harness, a verdict per harness.
    expect(r.stdout).toContain("steady: simulator TTFT 100 ms, ITL 10 ms, no jitter");
    expect(r.stdout).toContain("jitter: simulator TTFT 100 ± 20 ms, ITL 10 ± 3 ms (normal jitter, seed 42)");
    for (const h of HARNESSES) {
      expect(r.stdout).toMatch(new RegExp(`^${h}\\s+TTFT ms`, "m"));
      expect(r.stdout).toContain(`  ${h}: ok\n`);
    }
    expect(r.stdout).toContain("calibration passed");

    const result = JSON.parse(readFileSync(join(out, "calibration.json"), "utf8")) as CalibrationResult;
    expect(result.ok).toBe(true);
    expect(result.profile.overrides).toEqual(["load.stages.0.duration_s=null", "load.stages.0.requests=8"]);
    expect(result.settings.map((s) => s.setting.name)).toEqual(["steady", "jitter"]);
    for (const s of result.settings) {
      expect(s.runs.map((run) => run.harness)).toEqual(HARNESSES);
      for (const run of s.runs) {
        expect(run.status, `${s.setting.name}/${run.harness}: ${run.reason}`).toBe("ok");
        expect(run.checks!.every((c) => c.ok)).toBe(true);
        // Every run keeps its own directory, metrics and the trace it was checked against.
        readValidMetrics(run.run_dir!);
        expect(existsSync(join(run.run_dir!, "sim-trace.jsonl"))).toBe(true);
        expect(run.truth!.requests.successful).toBe(8);
        // Token counts are exact for every harness: the simulator serves exactly max_tokens.
        expect(run.measured!.output_tokens_per_request).toMatchObject({ min: 128, max: 128 });
        // Every harness sends before the server receives and reads after the server sends (to
        // within the clock offset's estimate, a fraction of a millisecond).
        expect(run.ttft_split, `${run.harness}: ${run.notes.join("; ")}`).toBeDefined();
        expect(run.ttft_split!.matched).toBe(8);
        expect(run.ttft_split!.split_consistent).toBe(true);
        expect(run.ttft_split!.send_ms.p50!).toBeGreaterThan(0);
        expect(run.ttft_split!.receive_ms.min!).toBeGreaterThan(-1);
      }
    }
  });

  it("refuses bad flags with exit 2 before running anything", async () => {
    const out = tempOut("calibrate-bad");
    for (const args of [["--harness", "nope"], ["--tolerance", "3"], ["--ttft-ms", "-1"], ["--requests", "x"]]) {
      const r = await hub(["calibrate", ...args, "--out", out]);
      expect(r.exitCode, args.join(" ")).toBe(2);
      expect(r.stderr).toMatch(/^hub: error: /m);
    }
    expect(existsSync(out)).toBe(false);
  });
});
