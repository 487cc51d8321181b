import { describe, expect, it } from "vitest";
import { alignToTrace } from "../../src/calibrate/align.ts";
import { checksFor, compareObservations, errorOf } from "../../src/calibrate/errors.ts";
import { calibrationSettings, checkCalibratable, nominal, requestBoundOverrides } from "../../src/calibrate/settings.ts";
import { pct, renderCalibration } from "../../src/calibrate/table.ts";
import { nominalFor, observationFromStage, truthFromTrace, type Observation } from "../../src/calibrate/truth.ts";
import type { CalibrationResult } from "../../src/calibrate/types.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import type { RequestRecord } from "../../src/metrics/records.ts";
import { emptySummary } from "../../src/metrics/stats.ts";
import { UserError } from "../../src/errors.ts";
import { loadProfile } from "../../src/profile/load.ts";
import type { TraceRecord } from "../../src/sim/index.ts";

/** A trace record: received at t s, first token after ttftMs, then the given gaps, end 1 ms after the last token. */
function rec(t: number, ttftMs: number, gapsMs: number[], status: TraceRecord["status"] = "ok"): TraceRecord {
  const times = [t + ttftMs / 1000];
  for (const g of gapsMs) times.push(times.at(-1)! + g / 1000);
  return {
    id: `r${t}`,
    endpoint: "/v1/completions",
    stream: true,
    received_s: t,
    first_token_s: status === "ok" ? times[0]! : null,
    token_times_s: status === "ok" ? times : [],
    end_s: status === "ok" ? times.at(-1)! + 0.001 : t + 0.001,
    prompt_tokens: 10,
    completion_tokens: status === "ok" ? times.length : 0,
    status,
    queued_ms: 0,
    http_status: status === "ok" ? 200 : 500,
  };
}

const steady = calibrationSettings({ ttftMs: 50, itlMs: 10, noJitter: true })[0]!;

describe("ground truth from the trace", () => {
  const trace = [rec(100, 50, [10, 10, 10]), rec(100.5, 60, [10, 20, 10]), rec(101, 0, [], "failed")];
  const truth = truthFromTrace(trace);

  it("applies docs/metrics.md's definitions to the server's times", () => {
    expect(truth.requests).toEqual({ successful: 2, failed: 1 });
    expect(truth.latency.ttft_ms.count).toBe(2);
    expect(truth.latency.ttft_ms.p50).toBeCloseTo(55, 6);
    // E2E: ttft + gaps + 1 ms to the end of the response.
    expect(truth.latency.e2e_ms.min).toBeCloseTo(81, 6);
    expect(truth.latency.e2e_ms.max).toBeCloseTo(101, 6);
    // TPOT = (E2E - TTFT) / (n - 1): (31/3) and (41/3).
    expect(truth.latency.tpot_ms.min).toBeCloseTo(31 / 3, 6);
    expect(truth.latency.tpot_ms.max).toBeCloseTo(41 / 3, 6);
    // NTPOT = E2E / n.
    expect(truth.latency.ntpot_ms.min).toBeCloseTo(81 / 4, 6);
    // ITL pools every gap: six gaps, one of 20 ms.
    expect(truth.latency.itl_ms.count).toBe(6);
    expect(truth.latency.itl_ms.p50).toBeCloseTo(10, 6);
    expect(truth.latency.itl_ms.max).toBeCloseTo(20, 6);
    expect(truth.output_tokens_per_request).toMatchObject({ count: 2, min: 4, max: 4 });
  });

  it("throughput is ok output tokens over first receipt to last end, failed requests included in the window", () => {
    // 8 tokens; window 100 s → 101.001 s (the failed request ends last).
    expect(truth.duration_s).toBeCloseTo(1.001, 6);
    expect(truth.output_tokens_per_s).toBeCloseTo(8 / 1.001, 6);
  });

  it("an empty trace gives empty summaries, never zeros", () => {
    const t = truthFromTrace([]);
    expect(t.latency.ttft_ms).toMatchObject({ count: 0, p50: null });
    expect(t.output_tokens_per_s).toBeNull();
  });

  it("recomputing the trace as if it were a harness's records gives the same numbers (one definition)", () => {
    const records: RequestRecord[] = trace.map((t) =>
      t.status === "ok"
        ? { status: "ok", start_s: t.received_s, end_s: t.end_s, first_token_s: t.first_token_s!, last_token_s: t.token_times_s.at(-1)!, token_times_s: t.token_times_s, output_tokens: t.completion_tokens, input_tokens: 10 }
        : { status: "failed", start_s: t.received_s, end_s: t.end_s },
    );
    const stage = computeStage({ index: 0, load: { type: "concurrent", concurrency: 2 }, records });
    const measured = observationFromStage(stage);
    for (const e of compareObservations(measured, truth)) {
      if (e.truth === null) continue;
      expect(e.abs, e.metric).toBeCloseTo(0, 6);
    }
    expect(measured.latency.ttft_ms.provenance?.source).toBe("recomputed");
  });
});

describe("the latency model", () => {
  it("predicts ttft + (n - 1) itl per request", () => {
    expect(nominal(steady, 128)).toEqual({ ttft: 50, itl: 10, e2e: 1320, tpot: 10, ntpot: 1320 / 128 });
    expect(nominal(steady, 1)).toMatchObject({ e2e: 50, tpot: null, ntpot: 50 });
  });

  it("summarises the model over the requests the simulator served; with jitter only centre statistics", () => {
    const trace = [rec(0, 50, [10, 10, 10]), rec(1, 50, [10])];
    const n = nominalFor(steady, trace);
    expect(n.latency.e2e_ms).toMatchObject({ min: 60, max: 80, p50: 70 });
    expect(n.latency.itl_ms).toMatchObject({ count: 4, p50: 10, p90: 10 });
    const jitter = calibrationSettings({ ttftMs: 50, itlMs: 10 })[1]!;
    expect(nominalFor(jitter, trace).latency.ttft_ms).toMatchObject({ p50: 50, mean: 50, p90: null });
  });
});

describe("errors and checks", () => {
  it("errorOf: absolute and relative error; null when either side is missing or truth is 0", () => {
    expect(errorOf("x", 55, 50)).toEqual({ metric: "x", value: 55, truth: 50, abs: 5, rel: 0.1 });
    expect(errorOf("x", null, 50)).toMatchObject({ abs: null, rel: null });
    expect(errorOf("x", 5, 0)).toMatchObject({ abs: 5, rel: null });
  });

  const truth = truthFromTrace(Array.from({ length: 10 }, (_, i) => rec(i, 50, [10, 10, 10, 10])));
  const shifted = (ttftMs: number, itlMs: number): Observation => ({
    ...truth,
    latency: { ...truth.latency, ttft_ms: { ...truth.latency.ttft_ms, p50: ttftMs }, itl_ms: { ...truth.latency.itl_ms, p50: itlMs } },
  });

  it("TTFT p50 and ITL p50 are checked against the trace and, without jitter, the set latency", () => {
    const checks = checksFor(shifted(54, 10.5), truth, steady, 0.1);
    expect(checks.map((c) => [c.metric, c.against, c.ok])).toEqual([
      ["ttft_ms.p50", "trace", true],
      ["ttft_ms.p50", "set", true],
      ["itl_ms.p50", "trace", true],
      ["itl_ms.p50", "set", true],
    ]);
    expect(checks[0]!.rel).toBeCloseTo(0.08, 9);
  });

  it("an error just over the tolerance fails; a missing value fails", () => {
    const over = checksFor(shifted(55.5, 10), truth, steady, 0.1);
    expect(over.filter((c) => !c.ok).map((c) => `${c.metric} ${c.against}`)).toEqual(["ttft_ms.p50 trace", "ttft_ms.p50 set"]);
    const missing = checksFor(shifted(50, null as unknown as number), truth, steady, 0.1);
    expect(missing.filter((c) => !c.ok).map((c) => c.metric)).toEqual(["itl_ms.p50", "itl_ms.p50"]);
  });

  it("with jitter the set latency is not a check (a sample median differs from it legitimately)", () => {
    const jitter = calibrationSettings({ ttftMs: 50, itlMs: 10 })[1]!;
    expect(checksFor(shifted(50, 10), truth, jitter, 0.1).map((c) => c.against)).toEqual(["trace", "trace"]);
  });

  it("with jitter and matched requests, TTFT is checked per request against the server's record of it", () => {
    const jitter = calibrationSettings({ ttftMs: 50, itlMs: 10 })[1]!;
    const split = (p50: number) => ({ matched: 10, clock_offset_s: 0, send_ms: emptySummary(), receive_ms: emptySummary(), end_ms: emptySummary(), ttft_diff_ms: { ...emptySummary(), p50 }, split_consistent: true });
    // The distribution p50 is off by 20% (slow requests crossing the median), the paired median by 2%.
    const [ttft, itl] = checksFor(shifted(60, 10), truth, jitter, 0.1, split(1));
    expect(ttft).toMatchObject({ metric: "ttft_ms.p50", against: "paired", value: 1, expected: 0, ok: true });
    expect(ttft!.rel).toBeCloseTo(0.02, 9);
    expect(itl).toMatchObject({ against: "trace", ok: true });
    expect(checksFor(shifted(50, 10), truth, jitter, 0.1, split(6))[0]).toMatchObject({ against: "paired", ok: false });
    // Without jitter the paired difference is not needed: the p50s are exact.
    expect(checksFor(shifted(50, 10), truth, steady, 0.1, split(6)).map((c) => c.against)).toEqual(["trace", "set", "trace", "set"]);
  });

  it("compares every latency at mean/p50/p90/p99, throughput and counts", () => {
    const metrics = compareObservations(truth, truth).map((e) => e.metric);
    expect(metrics).toContain("ttft_ms.p50");
    expect(metrics).toContain("e2e_ms.p99");
    expect(metrics).toContain("ntpot_ms.mean");
    expect(metrics).toContain("output_tokens_per_s");
    expect(metrics).toContain("requests.successful");
    expect(metrics).toHaveLength(5 * 4 + 6);
  });
});

describe("settings and workload", () => {
  it("steady and jitter settings; jitter defaults to 20% / 30% of TTFT / ITL", () => {
    const [s, j] = calibrationSettings({ ttftMs: 100, itlMs: 20, seed: 3 });
    expect(s).toEqual({ name: "steady", ttftMs: 100, itlMs: 20, ttftJitterMs: 0, itlJitterMs: 0, seed: 3 });
    expect(j).toEqual({ name: "jitter", ttftMs: 100, itlMs: 20, ttftJitterMs: 20, itlJitterMs: 6, seed: 3 });
    expect(calibrationSettings({ noJitter: true })).toHaveLength(1);
    expect(() => calibrationSettings({ ttftJitterMs: 0, itlJitterMs: 0 })).toThrow(UserError);
  });

  it("bounds every stage by requests, removing a duration only where there is one", () => {
    expect(requestBoundOverrides(loadProfile("sanity_concurrent").profile, 20)).toEqual(["load.stages.0.duration_s=null", "load.stages.0.requests=20"]);
    const bounded = loadProfile("sanity_concurrent", ["load.stages.0.duration_s=null", "load.stages.0.requests=5"]).profile;
    expect(requestBoundOverrides(bounded, 20)).toEqual(["load.stages.0.requests=20"]);
    expect(requestBoundOverrides(bounded, 0)).toEqual([]);
    // The overrides apply cleanly.
    const p = loadProfile("sanity_random", requestBoundOverrides(loadProfile("sanity_random").profile, 12)).profile;
    expect(p.load.stages[0]).toEqual({ rate: 1, requests: 12 });
  });

  it("refuses sweeps and multi-stage profiles with what to do instead", () => {
    expect(() => checkCalibratable(loadProfile("sanity_concurrent").profile)).not.toThrow();
    const multi = loadProfile("sanity_concurrent", ['load.stages=[{"concurrency":1,"requests":2},{"concurrency":2,"requests":2}]']).profile;
    expect(() => checkCalibratable(multi)).toThrow(/has 2\. Keep one/);
  });
});

describe("the table", () => {
  it("one block per setting, harness values with their error against their own trace, verdict lines", () => {
    const truth = truthFromTrace([rec(0, 50, [10, 10, 10]), rec(1, 52, [10, 10, 10])]);
    const measured: Observation = { ...truth, latency: { ...truth.latency, ttft_ms: { ...truth.latency.ttft_ms, p50: 60, provenance: { source: "native" } } } };
    const result: CalibrationResult = {
      hub_version: "0",
      started_at: "",
      ended_at: "",
      out_dir: "/tmp/cal",
      profile: { name: "sanity_concurrent", overrides: ["load.stages.0.requests=2"] },
      requests: 2,
      tolerance: 0.1,
      left_out: [{ harness: "nope", reason: "cannot run" }],
      ok: false,
      settings: [
        {
          setting: steady,
          runs: [
            { harness: "good", version: "1", status: "ok", run_dir: null, wall_s: 1, truth, measured: truth, nominal: truth, checks: checksFor(truth, truth, steady, 0.1), notes: [], ok: true },
            { harness: "biased", version: "1", status: "ok", run_dir: null, wall_s: 1, truth, measured, checks: checksFor(measured, truth, steady, 0.1), notes: [], ok: false },
            { harness: "broken", version: null, status: "failed", reason: "exited with code 3", run_dir: null, wall_s: 0, notes: [], ok: false },
          ],
        },
      ],
    };
    const text = renderCalibration(result);
    expect(text).toContain("steady: simulator TTFT 50 ms, ITL 10 ms, no jitter");
    expect(text).toMatch(/biased\s+TTFT ms\s+-\s+51\.00\s+60\.00\*\s+\+17\.6%/);
    expect(text).toContain("  good: ok\n");
    expect(text).toContain("  biased: FAIL\n    TTFT p50 +9.00 ms (+17.6%) vs trace OVER 10%, +10.00 ms (+20.0%) vs set OVER 10%; ITL p50 0.00 ms (0.0%) vs trace");
    expect(text).toContain("broken: failed: exited with code 3");
    expect(text).toContain("left out: nope: cannot run");
    expect(text).toContain("* the harness's own aggregate");
    expect(text).toContain("calibration FAILED; results in /tmp/cal");
  });

  it("pct: signed, and a rounded zero has no sign", () => {
    expect(pct(0.1234)).toBe("+12.3%");
    expect(pct(-0.00001)).toBe("0.0%");
    expect(pct(null)).toBe("-");
  });
});

describe("splitting the TTFT difference into send and receive", () => {
  // Server: requests received at 10, 10.001, 11.3 s; client clock = server + 1000 s (perf_counter-like).
  const trace = [rec(10, 50, [10, 10]), rec(10.001, 50, [10, 10]), rec(11.3, 50, [10, 10])];
  const OFF = 1000;
  /** The client's view of a trace record: sent sendMs earlier, tokens seen recvMs later (the first +extraFirstMs more). */
  const client = (t: TraceRecord, sendMs: number, recvMs: number, extraFirstMs = 0): RequestRecord => {
    const times = t.token_times_s.map((x, i) => x + OFF + (recvMs + (i === 0 ? extraFirstMs : 0)) / 1000);
    return { status: "ok", start_s: t.received_s + OFF - sendMs / 1000, end_s: t.end_s + OFF + recvMs / 1000, first_token_s: times[0]!, last_token_s: times.at(-1)!, token_times_s: times, output_tokens: times.length };
  };

  it("recovers each request's send and receive delay whatever the harness's clock", () => {
    const records = [client(trace[0]!, 5, 0.1, 2), client(trace[1]!, 7, 0.1), client(trace[2]!, 3, 0.1)];
    const a = alignToTrace(records, trace);
    if (typeof a === "string") throw new Error(a);
    expect(a.matched).toBe(3);
    expect(a.clock_offset_s).toBeCloseTo(OFF + 0.0001, 6);
    expect(a.send_ms.min).toBeCloseTo(3.1, 6);
    expect(a.send_ms.max).toBeCloseTo(7.1, 6);
    expect(a.send_ms.p50).toBeCloseTo(5.1, 6);
    // The first request's first token came 2 ms late; the rest on time (the 0.1 ms is in the offset).
    expect(a.receive_ms.max).toBeCloseTo(2, 6);
    expect(a.receive_ms.p50).toBeCloseTo(0, 6);
    // Per request, harness TTFT - server TTFT = send + receive: 5.1 + 2, 7.1 + 0, 3.1 + 0.
    expect(a.ttft_diff_ms.min).toBeCloseTo(3.1, 6);
    expect(a.ttft_diff_ms.p50).toBeCloseTo(7.1, 6);
    expect(a.ttft_diff_ms.max).toBeCloseTo(7.1, 6);
    expect(a.split_consistent).toBe(true);
  });

  it("a harness that left out the first request (warm-up) is matched to the right ones", () => {
    const a = alignToTrace([client(trace[1]!, 4, 0), client(trace[2]!, 4, 0)], trace);
    if (typeof a === "string") throw new Error(a);
    expect(a.matched).toBe(2);
    expect(a.send_ms.p50).toBeCloseTo(4, 6);
  });

  it("first and last token only (guidellm) still gives the split", () => {
    const records = trace.map((t) => {
      const r = client(t, 6, 0.5);
      delete r.token_times_s;
      return r;
    });
    const a = alignToTrace(records, trace);
    if (typeof a === "string") throw new Error(a);
    expect(a.send_ms.p50).toBeCloseTo(6.5, 6);
    expect(a.receive_ms.p50).toBeCloseTo(0, 6);
  });

  it("a harness stamping epoch time shares the trace's clock: offset 0, even when every token is late", () => {
    const epoch = trace.map((t) => {
      const r = client(t, 1, 5);
      const shift = (x: number) => x - OFF;
      return { ...r, start_s: shift(r.start_s), end_s: shift(r.end_s!), first_token_s: shift(r.first_token_s!), last_token_s: shift(r.last_token_s!), token_times_s: r.token_times_s!.map(shift) };
    });
    const a = alignToTrace(epoch, trace);
    if (typeof a === "string") throw new Error(a);
    expect(a.clock_offset_s).toBe(0);
    expect(a.send_ms.p50).toBeCloseTo(1, 6);
    expect(a.receive_ms.p50).toBeCloseTo(5, 6);
    expect(a.split_consistent).toBe(true);
  });

  it("an estimated offset that contradicts the sends is flagged; the per-request sum stays right", () => {
    // Other clock, every token 5 ms late: the offset absorbs the 5 ms (sends +6 ms, receives 0).
    const late = alignToTrace(trace.map((t) => client(t, 1, 5)), trace);
    if (typeof late === "string") throw new Error(late);
    expect(late.ttft_diff_ms.p50).toBeCloseTo(6, 6);
    expect(late.send_ms.p50).toBeCloseTo(6, 6);
    expect(late.split_consistent).toBe(true);
    // Requests that reach the server before the harness says it sent them.
    const early = alignToTrace(trace.map((t) => client(t, -3, 0)), trace);
    if (typeof early === "string") throw new Error(early);
    expect(early.ttft_diff_ms.p50).toBeCloseTo(-3, 6);
    expect(early.split_consistent).toBe(false);
  });

  it("says why when there is nothing to match", () => {
    expect(alignToTrace([], trace)).toMatch(/no first-token times/);
    expect(alignToTrace(trace.map((t) => client(t, 1, 1)), trace.slice(1))).toMatch(/3 successful requests, the simulator served 2/);
  });
});
