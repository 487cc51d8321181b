import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fmperfConverter } from "../../converters/fmperf.ts";
import type { ConvertContext } from "../../src/harness/contract.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import { Stage } from "../../src/metrics/schema.ts";
import { loadProfile } from "../../src/profile/load.ts";

/** Real fmperf 0.0.1 runs against hub's simulator (ttft 50 ms, itl 10 ms); see README.md there. */
const FIXTURES = join(import.meta.dirname, "../fixtures/fmperf/0.0.1");
const TTFT_MS = 50;
const ITL_MS = 10;
const dir = (name: string) => join(FIXTURES, name);
const json = (name: string, file: string) => JSON.parse(readFileSync(join(dir(name), file), "utf8"));

interface TraceRecord {
  status: string;
  received_s: number;
  first_token_s: number | null;
  token_times_s: number[];
  prompt_tokens: number | null;
  completion_tokens: number;
}
const trace = (name: string): TraceRecord[] =>
  readFileSync(join(dir(name), "sim-trace.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

async function convertOk(path: string, ctx: ConvertContext = { harnessVersion: "0.0.1" }) {
  const r = await fmperfConverter.convert(path, ctx);
  if (r.kind !== "ok") throw new Error(r.reason);
  return { ...r, computed: r.stages.map((s) => Stage.parse(computeStage(s))) };
}

const within = (v: number | null | undefined, target: number, tol = 0.1) => v !== null && v !== undefined && Math.abs(v - target) <= tol * target;

/** fmperf's own aggregates, as fmperf.utils.parse_results computes them (means only). */
function fmperfMeans(records: { ok: boolean; exclude: boolean; response_idx: number; duration_ms: number; worker_idx: number; request_idx: number }[]) {
  const ok = records.filter((r) => r.ok && !r.exclude);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const perRequest = new Map<string, number>();
  for (const r of ok) perRequest.set(`${r.worker_idx}/${r.request_idx}`, (perRequest.get(`${r.worker_idx}/${r.request_idx}`) ?? 0) + r.duration_ms);
  return {
    prefill: mean(ok.filter((r) => r.response_idx === 0).map((r) => r.duration_ms)),
    nexttoken: mean(ok.filter((r) => r.response_idx > 0).map((r) => r.duration_ms)),
    e2e: mean([...perRequest.values()]),
  };
}

describe("fmperf converter on recorded 0.0.1 runs", () => {
  it("two_users: one concurrent stage, every request regrouped from its token records", async () => {
    const r = await convertOk(dir("two_users"));
    expect(r.harnessVersion).toBe("0.0.1");
    expect(r.warnings).toEqual([]);
    expect(r.computed).toHaveLength(1);
    const s = r.computed[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });

    const records = json("two_users", "results_stage0.json").results;
    const requests = new Set(records.map((x: { worker_idx: number; request_idx: number }) => `${x.worker_idx}/${x.request_idx}`));
    expect(s.requests).toEqual({ total: requests.size, successful: requests.size, failed: 0, incomplete: 0 });
    expect(s.requests.successful).toBeGreaterThan(20);

    // Every load request the simulator served (after the 10 generate-input ones) is one record.
    const served = trace("two_users").slice(10);
    expect(served).toHaveLength(requests.size);
    expect(s.tokens.output_per_request).toMatchObject({ min: 32, max: 32 });
    // fmperf sends token-id prompts: the prompt's length is the input, as the simulator counted it.
    expect(s.tokens.input_per_request).toMatchObject({ min: 128, max: 128 });
    expect(new Set(served.map((t) => t.prompt_tokens))).toEqual(new Set([128]));

    const l = s.latency;
    expect(within(l.ttft_ms.p50, TTFT_MS), `TTFT p50 ${l.ttft_ms.p50}`).toBe(true);
    expect(within(l.itl_ms.p50, ITL_MS), `ITL p50 ${l.itl_ms.p50}`).toBe(true);
    expect(within(l.tpot_ms.p50, ITL_MS), `TPOT p50 ${l.tpot_ms.p50}`).toBe(true);
    expect(within(l.e2e_ms.p50, TTFT_MS + 31 * ITL_MS, 0.05), `E2E p50 ${l.e2e_ms.p50}`).toBe(true);
    for (const d of Object.values(l)) expect(d.provenance.source).toBe("recomputed");
    // Every token gap, pooled: 31 per request.
    expect(l.itl_ms.count).toBe(31 * requests.size);

    // The same records, fmperf's way: its means agree with the recomputed ones.
    const means = fmperfMeans(records);
    expect(l.ttft_ms.mean).toBeCloseTo(means.prefill, 3);
    expect(l.itl_ms.mean).toBeCloseTo(means.nexttoken, 3);
    expect(l.e2e_ms.mean).toBeCloseTo(means.e2e, 3);
  });

  it("two_users: TTFT and token times agree with the simulator's ground truth, request by request", async () => {
    const r = await convertOk(dir("two_users"));
    const recs = [...r.stages[0]!.records].sort((a, b) => a.start_s - b.start_s);
    const served = trace("two_users").slice(10).sort((a, b) => a.received_s - b.received_s);
    recs.forEach((rec, i) => {
      const t = served[i]!;
      // fmperf's send time is before the simulator received it; its first token after it was sent.
      expect(rec.start_s).toBeLessThanOrEqual(t.received_s + 1e-3);
      expect(t.received_s - rec.start_s).toBeLessThan(0.05);
      expect(rec.first_token_s! - t.first_token_s!).toBeGreaterThanOrEqual(-1e-3);
      expect(rec.first_token_s! - t.first_token_s!).toBeLessThan(0.05);
      expect(rec.token_times_s).toHaveLength(t.token_times_s.length);
    });
  });

  it("sweep: one stage per user count in the order they ran, from the all-records file only", async () => {
    const r = await convertOk(dir("sweep"));
    expect(r.computed.map((s) => s.load)).toEqual([
      { type: "concurrent", concurrency: 1 },
      { type: "concurrent", concurrency: 2 },
    ]);
    expect(r.computed[0]!.notes.join("\n")).toMatch(/read results_all\.json .* result_sweep_u1\.json, result_sweep_u2\.json hold the same records/);
    const all = json("sweep", "results_all.json");
    const count = (u: number) => new Set(all.filter((x: { exp_num_users: number }) => x.exp_num_users === u).map((x: { worker_idx: number; request_idx: number }) => `${x.worker_idx}/${x.request_idx}`)).size;
    expect(r.computed.map((s) => s.requests.total)).toEqual([count(1), count(2)]);
    expect(r.computed[0]!.requests.total + r.computed[1]!.requests.total).toBe(trace("sweep").length - 10);
    // Lengths drawn uniformly from [32, 96] and [8, 24].
    for (const s of r.computed) {
      expect(s.tokens.input_per_request.min).toBeGreaterThanOrEqual(32);
      expect(s.tokens.input_per_request.max).toBeLessThanOrEqual(96);
      expect(s.tokens.output_per_request.min).toBeGreaterThanOrEqual(8);
      expect(s.tokens.output_per_request.max).toBeLessThanOrEqual(24);
      expect(within(s.latency.ttft_ms.p50, TTFT_MS)).toBe(true);
    }
    // The second stage ran after the first.
    expect(r.stages[1]!.records[0]!.start_s).toBeGreaterThan(r.stages[0]!.records.at(-1)!.start_s);
  });

  it("sweep: a single per-run file converts on its own", async () => {
    const r = await convertOk(join(dir("sweep"), "result_sweep_u2.json"));
    expect(r.computed.map((s) => s.load)).toEqual([{ type: "concurrent", concurrency: 2 }]);
    expect(r.computed[0]!.tokens.input_per_request.count).toBeGreaterThan(0);
  });

  it("failures: a record with ok false makes its request failed, with fmperf's error", async () => {
    const r = await convertOk(dir("failures"));
    const s = r.computed[0]!;
    const failedTrace = trace("failures").filter((t) => t.status !== "ok");
    expect(s.requests).toMatchObject({ total: 7, successful: 3, failed: 4, incomplete: 0 });
    expect(s.failure_rate).toBeCloseTo(4 / 7, 9);
    // 3 of the simulator's failures hit generate-input (requests.json keeps the other 7), 4 the load.
    expect(failedTrace).toHaveLength(7);
    expect(json("failures", "requests.json")).toHaveLength(7);
    expect(r.stages[0]!.records.filter((x) => x.status === "failed").map((x) => x.error)).toEqual(Array(4).fill("list index out of range"));
    expect(within(s.latency.ttft_ms.p50, TTFT_MS)).toBe(true);
  });

  it("exclude: requests still streaming after DURATION + GRACE_PERIOD are incomplete, as fmperf leaves them out", async () => {
    const r = await convertOk(dir("exclude"));
    const s = r.computed[0]!;
    expect(s.requests).toEqual({ total: 4, successful: 2, failed: 0, incomplete: 2 });
    expect(s.notes.join("\n")).toMatch(/2 requests ran past DURATION \+ GRACE_PERIOD/);
    expect(s.tokens.output_per_request).toMatchObject({ count: 2, min: 100, max: 100 });
  });

  it("says which version it cannot confirm, and reports a synchronous profile's load point", async () => {
    const bare = await convertOk(dir("two_users"), {});
    expect(bare.harnessVersion).toBeNull();
    expect(bare.warnings.join("\n")).toMatch(/does not say which version/);
    const profile = loadProfile("sanity_concurrent", ["load.type=synchronous", "load.stages.0.concurrency=null"]).profile;
    const sync = await convertOk(join(dir("sweep"), "result_sweep_u1.json"), { harnessVersion: "0.0.1", profile });
    expect(sync.computed[0]!.load).toEqual({ type: "synchronous" });
  });

  it("converts results without a requests file, saying input tokens are unknown", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "hub-fmperf-"));
    copyFileSync(join(dir("two_users"), "results_stage0.json"), join(tmp, "results_stage0.json"));
    const r = await convertOk(tmp);
    expect(r.warnings.join("\n")).toMatch(/no fmperf requests file/);
    expect(r.computed[0]!.tokens.input_per_request.count).toBe(0);
    expect(r.computed[0]!.throughput.input_tokens_per_s).toBeNull();
  });

  it("fails with the file and field named on wrong input", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "hub-fmperf-"));
    const empty = await fmperfConverter.convert(tmp, {});
    expect(empty).toMatchObject({ kind: "failed", reason: expect.stringMatching(/no fmperf results file/) });

    const asRequests = await fmperfConverter.convert(join(dir("two_users"), "requests.json"), {});
    expect(asRequests).toMatchObject({ kind: "failed", reason: expect.stringMatching(/requests file \(generate-input\)/) });

    const doc = json("two_users", "results_stage0.json");
    delete doc.results[3].duration_ms;
    writeFileSync(join(tmp, "results.json"), JSON.stringify(doc));
    const broken = await fmperfConverter.convert(join(tmp, "results.json"), {});
    expect(broken).toMatchObject({ kind: "failed", reason: expect.stringMatching(/results\.json: field "results\[3\]\.duration_ms" missing \(fmperf 0\.0\.1 loadgen output expected/) });

    const other = mkdtempSync(join(tmpdir(), "hub-fmperf-"));
    copyFileSync(join(dir("exclude"), "requests.json"), join(other, "requests.json"));
    copyFileSync(join(dir("sweep"), "results_all.json"), join(other, "results_all.json"));
    const mismatched = await fmperfConverter.convert(other, {});
    expect(mismatched).toMatchObject({ kind: "failed", reason: expect.stringMatching(/has 4 requests but the results use sample_idx \d+/) });
  });
});
