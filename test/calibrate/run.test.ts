/**
 * calibrate() end to end with the fake harness (no Python): runs, trace, ground truth, checks,
 * calibration.json. A converter that shifts every first token by 20 ms must be caught.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { calibrate } from "../../src/calibrate/run.ts";
import { calibrationSettings } from "../../src/calibrate/settings.ts";
import { renderCalibration } from "../../src/calibrate/table.ts";
import type { CalibrationResult } from "../../src/calibrate/types.ts";
import type { HarnessDefinition } from "../../src/harness/contract.ts";
import { UserError } from "../../src/errors.ts";
import { directRuntime, fakeHarness } from "../fixtures/harness/fake.ts";

const out = () => join(mkdtempSync(join(tmpdir(), "hub-calibrate-")), "cal");
const overrides = ["data.output_tokens.mean=16"];

/** The fake harness with a converter that adds shiftMs to every first token (a converter bug). */
function biased(shiftMs: number): HarnessDefinition {
  const base = fakeHarness();
  return {
    ...base,
    name: "fake-biased",
    converter: {
      ...base.converter,
      async convert(path, ctx) {
        const r = await base.converter.convert(path, ctx);
        if (r.kind === "ok") for (const s of r.stages) for (const rec of s.records) if (rec.first_token_s !== undefined) rec.first_token_s += shiftMs / 1000;
        return r;
      },
    },
  };
}

describe("calibrate with a fake harness", () => {
  // Latencies large enough, and a tolerance loose enough, that a loaded test machine cannot fail
  // the honest harness; the biased one is off by 50% (a larger shift would put its first token after its last, a record hub drops as impossible).
  it("runs every harness at every setting against a fresh simulator and compares with its trace", { timeout: 90_000 }, async () => {
    const dir = out();
    const seen: string[] = [];
    const result = await calibrate(
      {
        harnesses: [fakeHarness(), biased(50)],
        runtime: directRuntime,
        overrides,
        requests: 4,
        settings: calibrationSettings({ ttftMs: 100, itlMs: 10, ttftJitterMs: 20, itlJitterMs: 0, seed: 5 }),
        tolerance: 0.3,
        out: dir,
      },
      { onRunStart: (s, h) => seen.push(`${s.name}/${h}`) },
    );
    expect(seen).toEqual(["steady/fake", "steady/fake-biased", "jitter/fake", "jitter/fake-biased"]);
    for (const f of ["calibration.json", "steady-fake/metrics.json", "steady-fake/sim-trace.jsonl", "jitter-fake-biased/run.json"]) expect(existsSync(join(dir, f)), f).toBe(true);

    const [steady, jitter] = result.settings;
    const fake = steady!.runs[0]!;
    expect(fake).toMatchObject({ harness: "fake", version: "1.0", status: "ok", ok: true });
    expect(fake.truth!.requests.successful).toBe(4);
    expect(fake.measured!.output_tokens_per_request).toMatchObject({ min: 16, max: 16 });
    expect(fake.checks!.map((c) => `${c.metric} ${c.against}`)).toEqual(["ttft_ms.p50 trace", "ttft_ms.p50 set", "itl_ms.p50 trace", "itl_ms.p50 set"]);
    // The client measures from before it sends to after it reads: never less than the server.
    expect(fake.errors!.find((e) => e.metric === "ttft_ms.p50")!.abs!).toBeGreaterThan(0);

    const bad = steady!.runs[1]!;
    expect(bad).toMatchObject({ status: "ok", ok: false });
    expect(bad.checks!.filter((c) => !c.ok).map((c) => `${c.metric} ${c.against}`)).toEqual(["ttft_ms.p50 trace", "ttft_ms.p50 set"]);
    // The shift is all in TTFT: ITL and E2E stay right.
    expect(bad.errors!.find((e) => e.metric === "ttft_ms.p50")!.abs!).toBeGreaterThan(45);
    expect(Math.abs(bad.errors!.find((e) => e.metric === "e2e_ms.p50")!.rel!)).toBeLessThan(0.3);

    expect(jitter!.setting).toMatchObject({ ttftJitterMs: 20, itlJitterMs: 0, seed: 5 });
    // With jitter, TTFT is checked per request, paired with the trace; the fake's requests all match.
    expect(jitter!.runs[0]!.checks!.map((c) => c.against)).toEqual(["paired", "trace"]);
    expect(jitter!.runs[0]!.ttft_split!.matched).toBe(4);
    expect(jitter!.runs[1]!.ttft_split!.ttft_diff_ms.p50!).toBeGreaterThan(45);
    expect(jitter!.runs[0]!.ok).toBe(true);
    expect(jitter!.runs[1]!.ok).toBe(false);
    expect(result.ok).toBe(false);

    const saved = JSON.parse(readFileSync(join(dir, "calibration.json"), "utf8")) as CalibrationResult;
    expect(saved.profile.overrides).toEqual([...overrides, "load.stages.0.duration_s=null", "load.stages.0.requests=4"]);
    expect(saved.settings[0]!.runs[1]!.ok).toBe(false);
    const text = renderCalibration(result);
    expect(text).toContain("fake-biased: FAIL");
    expect(text).toContain("fake: ok");
    expect(text).toContain("calibration FAILED");
  });

  it("passes when every harness passes", { timeout: 60_000 }, async () => {
    const result = await calibrate({ harnesses: [fakeHarness()], runtime: directRuntime, overrides, requests: 3, settings: calibrationSettings({ ttftMs: 100, itlMs: 10, noJitter: true }), tolerance: 0.3, out: out() });
    expect(result.ok).toBe(true);
    expect(renderCalibration(result)).toContain("calibration passed");
  });

  it("refuses, before anything runs, a harness named explicitly that cannot run the profile", async () => {
    const dir = out();
    const e = await calibrate({ harnesses: [fakeHarness()], runtime: directRuntime, profile: "sanity_random", out: dir }).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(/load\.constant/);
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a multi-stage profile and bad numbers", async () => {
    await expect(calibrate({ harnesses: [fakeHarness()], overrides: ['load.stages=[{"concurrency":1,"requests":2},{"concurrency":2,"requests":2}]'], out: out() })).rejects.toThrow(/one stage/);
    await expect(calibrate({ harnesses: [fakeHarness()], requests: -1, out: out() })).rejects.toThrow(/--requests/);
    await expect(calibrate({ harnesses: [fakeHarness()], tolerance: 2, out: out() })).rejects.toThrow(/--tolerance/);
  });
});
