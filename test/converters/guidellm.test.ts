import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { guidellmConverter } from "../../converters/guidellm.ts";
import type { ConvertResult } from "../../src/harness/contract.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import { Stage } from "../../src/metrics/schema.ts";

/** Real guidellm 0.8.1 runs against hub's simulator (ttft 50 ms, itl 10 ms); see README.md there. */
const FIXTURES = join(import.meta.dirname, "../fixtures/guidellm/0.8.1");
const TTFT_MS = 50;
const ITL_MS = 10;

const dir = (name: string) => join(FIXTURES, name);
const native = (name: string) => JSON.parse(readFileSync(join(dir(name), "benchmarks.json"), "utf8"));
const trace = (name: string) =>
  readFileSync(join(dir(name), "sim-trace.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { status: string; received_s: number; first_token_s: number | null; prompt_tokens: number | null; completion_tokens: number });

async function convertOk(path: string) {
  const r = await guidellmConverter.convert(path, {});
  if (r.kind !== "ok") throw new Error(r.reason);
  return { ...r, computed: r.stages.map((s) => Stage.parse(computeStage(s))) };
}

const within = (v: number | null, target: number, tol = 0.1) => v !== null && Math.abs(v - target) <= tol * target;

function tempCopy(name: string, edit: (doc: any) => void): string {
  const doc = native(name);
  edit(doc);
  const out = mkdtempSync(join(tmpdir(), "hub-guidellm-"));
  writeFileSync(join(out, "benchmarks.json"), JSON.stringify(doc));
  return out;
}

const failed = (r: ConvertResult) => (r.kind === "failed" ? r.reason : `unexpectedly ok`);

describe("guidellm converter on recorded 0.8.1 runs", () => {
  const cases = [
    { name: "sanity_concurrent", loads: [{ type: "concurrent", concurrency: 2 }] },
    { name: "constant_two_rates", loads: [{ type: "constant", rate: 2 }, { type: "constant", rate: 4 }] },
    { name: "failures", loads: [{ type: "concurrent", concurrency: 2 }] },
  ];

  for (const { name, loads } of cases) {
    it(`${name}: stages, load points, counts and latencies`, async () => {
      const r = await convertOk(dir(name));
      expect(r.harnessVersion).toBe("0.8.1");
      expect(r.warnings).toEqual([]);
      expect(r.computed.map((s) => s.load)).toEqual(loads);

      const doc = native(name);
      r.computed.forEach((s, i) => {
        const totals = doc.benchmarks[i].metrics.request_totals;
        expect(s.requests, `stage ${i}`).toEqual({ total: totals.total, successful: totals.successful, failed: totals.errored, incomplete: totals.incomplete });
        expect(s.duration_s).toBeCloseTo(doc.benchmarks[i].duration, 9);
        expect(s.requests.successful).toBeGreaterThan(3);

        const l = s.latency;
        expect(within(l.ttft_ms.p50, TTFT_MS), `TTFT p50 ${l.ttft_ms.p50}`).toBe(true);
        expect(within(l.itl_ms.p50, ITL_MS), `ITL p50 ${l.itl_ms.p50}`).toBe(true);
        expect(within(l.tpot_ms.p50, ITL_MS), `TPOT p50 ${l.tpot_ms.p50}`).toBe(true);
        for (const d of Object.values(l)) expect(d.provenance.source).toBe("recomputed");
        expect(s.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });
        expect(s.tokens.input_per_request).toMatchObject({ min: 256, max: 256 });
        // E2E = TTFT + 127 gaps of 10 ms.
        expect(within(l.e2e_ms.p50, TTFT_MS + 127 * ITL_MS, 0.05), `E2E p50 ${l.e2e_ms.p50}`).toBe(true);
        // guidellm's own aggregate agrees with the recomputed value where definitions match.
        expect(l.ttft_ms.mean).toBeCloseTo(doc.benchmarks[i].metrics.time_to_first_token_ms.successful.mean, 6);
      });
    });
  }

  it("the simulator served exactly the requested 256 prompt and 128 output tokens", () => {
    for (const name of ["sanity_concurrent", "constant_two_rates", "failures"]) {
      const ok = trace(name).filter((t) => t.status === "ok");
      expect(ok.length).toBeGreaterThan(0);
      expect(new Set(ok.map((t) => t.completion_tokens))).toEqual(new Set([128]));
      expect(new Set(ok.map((t) => t.prompt_tokens))).toEqual(new Set([256]));
      const successful = native(name).benchmarks.reduce((n: number, b: any) => n + b.requests.successful.length, 0);
      expect(successful).toBe(ok.length);
    }
  });

  it("TTFT as converted sits just above the simulator's own, never below it", async () => {
    for (const name of ["sanity_concurrent", "failures"]) {
      const truth = trace(name)
        .filter((t) => t.status === "ok")
        .map((t) => (t.first_token_s! - t.received_s) * 1000)
        .sort((a, b) => a - b);
      const simP50 = truth[Math.floor(truth.length / 2)]!;
      const r = await convertOk(dir(name));
      const p50 = r.computed[0]!.latency.ttft_ms.p50!;
      expect(p50, name).toBeGreaterThan(simP50 - 1);
      expect(within(p50, simP50), `${name}: converted ${p50} vs simulator ${simP50}`).toBe(true);
    }
  });

  it("counts failures apart from incomplete requests", async () => {
    const r = await convertOk(dir("failures"));
    const s = r.computed[0]!;
    const errored = trace("failures").filter((t) => t.status === "failed").length;
    expect(s.requests.failed).toBeGreaterThan(0);
    expect(s.requests.failed).toBe(errored);
    expect(s.failure_rate).toBeCloseTo(s.requests.failed / (s.requests.successful + s.requests.failed), 12);
    const failedRecords = r.stages[0]!.records.filter((x) => x.status === "failed");
    expect(failedRecords.every((x) => typeof x.error === "string" && x.error.length > 0)).toBe(true);
  });

  it("accepts the benchmarks.json file itself", async () => {
    const r = await convertOk(join(dir("sanity_concurrent"), "benchmarks.json"));
    expect(r.stages).toHaveLength(1);
  });

  it("names the file and the field when a required field is missing", async () => {
    const out = tempCopy("sanity_concurrent", (d) => delete d.benchmarks[0].requests);
    const reason = failed(await guidellmConverter.convert(out, {}));
    expect(reason).toContain(join(out, "benchmarks.json"));
    expect(reason).toContain('field "benchmarks[0].requests" missing');
    expect(reason).toContain("guidellm 0.8.1 output expected; found version 0.8.1");

    const deep = tempCopy("sanity_concurrent", (d) => delete d.benchmarks[0].requests.successful[1].info.timings.request_start);
    expect(failed(await guidellmConverter.convert(deep, {}))).toContain('field "benchmarks[0].requests.successful[1].info.timings.request_start" missing');

    const typed = tempCopy("sanity_concurrent", (d) => (d.benchmarks[0].scheduler_metrics.measure_start_time = "soon"));
    expect(failed(await guidellmConverter.convert(typed, {}))).toContain('field "benchmarks[0].scheduler_metrics.measure_start_time" must be number');
  });

  it("fails cleanly on a missing file, bad JSON and an empty run", async () => {
    const empty = mkdtempSync(join(tmpdir(), "hub-guidellm-"));
    expect(failed(await guidellmConverter.convert(empty, {}))).toContain(`${join(empty, "benchmarks.json")}: not found`);
    writeFileSync(join(empty, "benchmarks.json"), "{ not json");
    expect(failed(await guidellmConverter.convert(empty, {}))).toMatch(/benchmarks\.json: not valid JSON/);
    const none = tempCopy("sanity_concurrent", (d) => (d.benchmarks = []));
    expect(failed(await guidellmConverter.convert(none, {}))).toContain('field "benchmarks" is empty');
  });

  it("reports a throughput stage's cap as the run asked for it, not guidellm's internal limit", async () => {
    const strategy = (cap: number | null) =>
      tempCopy("sanity_concurrent", (d) => {
        d.benchmarks[0].config.strategy = { type_: "throughput", worker_count: 10, max_concurrency: cap ?? 10240 };
        d.benchmarks[0].config.profile = { kind: "throughput", max_concurrency: cap };
      });
    expect((await convertOk(strategy(null))).computed[0]!.load).toEqual({ type: "throughput" });
    expect((await convertOk(strategy(16))).computed[0]!.load).toEqual({ type: "throughput", concurrency: 16 });
  });

  it("warns about a version it was not checked against", async () => {
    const out = tempCopy("sanity_concurrent", (d) => (d.metadata.guidellm_version = "0.9.0"));
    const r = await convertOk(out);
    expect(r.harnessVersion).toBe("0.9.0");
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain("version 0.9.0");
    expect(r.warnings[0]).toContain("0.8.1");
  });

  it("refuses a sampled request list instead of passing it off as the whole run", async () => {
    const out = tempCopy("sanity_concurrent", (d) => {
      d.benchmarks[0].config.sample_size = 2;
      d.benchmarks[0].requests.successful = d.benchmarks[0].requests.successful.slice(0, 2);
    });
    const reason = failed(await guidellmConverter.convert(out, {}));
    expect(reason).toContain("keeps 2 of");
    expect(reason).toContain('"sample_size":0');
  });

  it("offers guidellm's aggregates as native fallbacks, in ms, with their definitions", async () => {
    const doc = native("sanity_concurrent");
    const r = await convertOk(dir("sanity_concurrent"));
    const n = r.stages[0]!.native!;
    const m = doc.benchmarks[0].metrics;
    expect(n.e2e_ms).toMatchObject({ native_field: "benchmarks[0].metrics.request_latency.successful" });
    expect(n.e2e_ms!.summary.p50).toBeCloseTo(m.request_latency.successful.percentiles.p50 * 1000, 9);
    expect(n.ttft_ms!.summary.mean).toBe(m.time_to_first_token_ms.successful.mean);
    expect(n.tpot_ms!.note).toContain("weighted by n-1");
    expect(n.ntpot_ms!.native_field).toBe("benchmarks[0].metrics.time_per_output_token_ms.successful");
    // guidellm's mean E2E is the mean of the very values the records give.
    expect(r.computed[0]!.latency.e2e_ms.mean).toBeCloseTo(m.request_latency.successful.mean * 1000, 3);
  });

  it("leaves streaming metrics empty for a non-streaming run instead of taking guidellm's zeros", async () => {
    const doc = native("non_streaming");
    // guidellm counts the missing per-request ITL as 0 ms.
    expect(doc.benchmarks[0].metrics.inter_token_latency_ms.successful).toMatchObject({ mean: 0, count: 21 });
    const r = await convertOk(dir("non_streaming"));
    expect(r.stages[0]!.native).not.toHaveProperty("itl_ms");
    const s = r.computed[0]!;
    expect(s.load).toEqual({ type: "synchronous" });
    expect(s.requests).toMatchObject({ successful: 3, failed: 0 });
    for (const key of ["ttft_ms", "itl_ms", "tpot_ms"] as const) {
      expect(s.latency[key], key).toMatchObject({ count: 0, p50: null, mean: null });
    }
    expect(s.latency.e2e_ms.provenance.source).toBe("recomputed");
    expect(s.latency.ntpot_ms.count).toBe(3);
    expect(s.tokens.output_per_request).toMatchObject({ min: 8, max: 8 });
  });
});
