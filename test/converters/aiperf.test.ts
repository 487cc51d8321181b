import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import aiperf from "../../harnesses/aiperf/index.ts";
import { computeStage, type ConvertResult } from "../../src/index.ts";
import { Stage } from "../../src/metrics/schema.ts";
import { loadProfile } from "../../src/profile/load.ts";

/** Real aiperf 0.13.0 runs against hub's simulator (TTFT 50 ms, ITL 10 ms); see README.md there. */
const FIXTURES = join(import.meta.dirname, "../fixtures/aiperf/0.13.0");
const ITL_MS = 10;
const dir = (name: string) => join(FIXTURES, name);
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
const trace = (name: string) => lines(join(dir(name), "sim-trace.jsonl")) as { status: string; received_s: number; first_token_s: number; completion_tokens: number }[];
const summary = (name: string, stage = 0) => JSON.parse(readFileSync(join(dir(name), "native", `stage_${stage}`, "profile_export_aiperf.json"), "utf8"));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const within = (v: number | null, target: number, tol = 0.1) => v !== null && Math.abs(v - target) <= tol * target;

async function convertOk(path: string, ctx = {}) {
  const r = await aiperf.converter.convert(path, ctx);
  if (r.kind !== "ok") throw new Error(r.reason);
  return { ...r, computed: r.stages.map((s) => Stage.parse(computeStage(s))) };
}
const failed = (r: ConvertResult) => (r.kind === "failed" ? r.reason : "unexpectedly ok");

function tempCopy(name: string): string {
  const out = join(mkdtempSync(join(tmpdir(), "hub-aiperf-")), name);
  cpSync(dir(name), out, { recursive: true });
  return out;
}

describe("aiperf converter on recorded 0.13.0 runs", () => {
  const cases = [
    { name: "sanity_concurrent", loads: [{ type: "concurrent", concurrency: 2 }], out: 128 },
    { name: "two_stage_chat", loads: [{ type: "concurrent", concurrency: 1 }, { type: "concurrent", concurrency: 2 }], out: 64 },
    { name: "failures", loads: [{ type: "concurrent", concurrency: 2 }], out: 32 },
    { name: "constant_rate", loads: [{ type: "constant", rate: 2 }], out: undefined },
  ];

  for (const { name, loads, out } of cases) {
    it(`${name}: stages, load points, counts and latencies`, async () => {
      const r = await convertOk(join(dir(name), "native"));
      expect(r.harnessVersion).toBe("0.13.0");
      expect(r.warnings).toEqual([]);
      expect(r.computed.map((s) => s.load)).toEqual(loads);

      const served = trace(name);
      const total = r.computed.reduce((n, s) => n + s.requests.total, 0);
      const bad = r.computed.reduce((n, s) => n + s.requests.failed, 0);
      // Every request the simulator saw, each once; failures are the simulator's HTTP 500s.
      expect(total).toBe(served.length);
      expect(bad).toBe(served.filter((t) => t.status !== "ok").length);

      r.computed.forEach((s, i) => {
        const sum = summary(name, i);
        expect(s.requests.successful, `stage ${i}`).toBe(sum.request_count.avg);
        expect(s.requests.failed).toBe(sum.error_request_count?.avg ?? 0);
        expect(s.notes).toEqual([]);
        const l = s.latency;
        for (const d of Object.values(l)) expect(d.provenance.source).toBe("recomputed");
        // Same requests, same first-token and chunk times as aiperf's own aggregates.
        expect(l.ttft_ms.mean).toBeCloseTo(sum.time_to_first_token.avg, 3);
        expect(l.ttft_ms.p50).toBeCloseTo(sum.time_to_first_token.p50, 3);
        expect(l.itl_ms.count).toBe(sum.inter_chunk_latency.count);
        expect(l.itl_ms.mean).toBeCloseTo(sum.inter_chunk_latency.avg, 3);
        // The simulator's token gap, as hub defines ITL and TPOT.
        expect(within(l.itl_ms.p50, ITL_MS), `ITL p50 ${l.itl_ms.p50}`).toBe(true);
        expect(within(l.tpot_ms.p50, ITL_MS), `TPOT p50 ${l.tpot_ms.p50}`).toBe(true);
        if (out !== undefined) expect(s.tokens.output_per_request).toMatchObject({ min: out, max: out });
      });

      // A client sees the first token after the server sent it: never a lower median.
      const ok = served.filter((t) => t.status === "ok");
      const simTtft = median(ok.map((t) => (t.first_token_s - t.received_s) * 1000));
      const hubTtft = median(r.stages.flatMap((s) => s.records.filter((x) => x.status === "ok").map((x) => (x.first_token_s! - x.start_s) * 1000)));
      expect(hubTtft).toBeGreaterThanOrEqual(simTtft);
      // Output tokens are the server's own count, request by request.
      expect(r.stages.flatMap((s) => s.records.filter((x) => x.status === "ok").map((x) => x.output_tokens)).sort()).toEqual(ok.map((t) => t.completion_tokens).sort());
    });
  }

  it("per-request records carry every chunk time, anchored at aiperf's wall-clock start", async () => {
    const r = await convertOk(join(dir("sanity_concurrent"), "native"));
    const first = lines(join(dir("sanity_concurrent"), "native", "stage_0", "profile_export.jsonl"))[0];
    const rec = r.stages[0]!.records.find((x) => x.start_s === first.metadata.request_start_ns / 1e9)!;
    expect(rec.token_times_s).toHaveLength(first.metrics.inter_chunk_latency.value.length + 1);
    expect(rec.first_token_s! - rec.start_s).toBeCloseTo(first.metrics.time_to_first_token.value / 1000, 6);
    expect(rec.end_s).toBe(first.metadata.request_end_ns / 1e9);
    expect(rec.input_tokens).toBe(first.metrics.usage_prompt_tokens.value);
  });

  it("failed requests keep the server's error", async () => {
    const r = await convertOk(join(dir("failures"), "native"));
    const errs = r.stages[0]!.records.filter((x) => x.status === "failed").map((x) => x.error);
    expect(errs.length).toBeGreaterThan(0);
    for (const e of errs) expect(e).toMatch(/^HTTP 500: Internal Server Error: .*injected failure/);
    expect(r.computed[0]!.failure_rate).toBeCloseTo(errs.length / r.computed[0]!.requests.total, 9);
  });

  it("the profile says what a concurrency-1 stage meant", async () => {
    const { profile } = loadProfile("sanity_concurrent", ["load.type=synchronous", 'load.stages=[{"requests":6}]']);
    const one = tempCopy("two_stage_chat");
    rmSync(join(one, "native", "stage_1"), { recursive: true });
    const r = await convertOk(join(one, "native"), { profile });
    expect(r.computed.map((s) => s.load)).toEqual([{ type: "synchronous" }]);
  });

  it("a folder aiperf wrote on its own converts as one stage; a missing stage is reported", async () => {
    const r = await convertOk(join(dir("sanity_concurrent"), "native", "stage_0"));
    expect(r.stages).toHaveLength(1);
    const { profile } = loadProfile("sanity_concurrent", ['load.stages=[{"concurrency":1,"requests":6},{"concurrency":2,"requests":10}]']);
    const partial = tempCopy("two_stage_chat");
    rmSync(join(partial, "native", "stage_1"), { recursive: true });
    const p = await convertOk(join(partial, "native"), { profile });
    expect(p.warnings.join("\n")).toMatch(/results for 1 of the profile's 2 stages/);
  });

  it("without profile_export.jsonl, falls back to aiperf's aggregates and says so", async () => {
    const copy = tempCopy("sanity_concurrent");
    rmSync(join(copy, "native", "stage_0", "profile_export.jsonl"));
    const r = await convertOk(join(copy, "native"));
    expect(r.warnings.join("\n")).toMatch(/no profile_export\.jsonl/);
    const s = r.computed[0]!;
    const sum = summary("sanity_concurrent");
    expect(s.requests.successful).toBe(sum.request_count.avg);
    expect(s.latency.ttft_ms.provenance).toMatchObject({ source: "native", native_field: "profile_export_aiperf.json: time_to_first_token" });
    expect(s.latency.ttft_ms.p50).toBeCloseTo(sum.time_to_first_token.p50, 9);
    expect(s.latency.itl_ms.provenance.native_field).toMatch(/inter_chunk_latency/);
    expect(s.latency.tpot_ms.provenance.native_field).toMatch(/inter_token_latency/);
    expect(s.throughput.requests_per_s).toBeCloseTo(sum.request_count.avg / sum.benchmark_duration.avg, 9);
    expect(s.throughput.output_tokens_per_s).toBeCloseTo(sum.output_token_throughput.avg, 9);
  });

  it("leaves warmup requests out, as aiperf does", async () => {
    const copy = tempCopy("sanity_concurrent");
    const file = join(copy, "native", "stage_0", "profile_export.jsonl");
    const recs = lines(file);
    recs[0].metadata.benchmark_phase = "warmup";
    writeFileSync(file, recs.map((x) => JSON.stringify(x)).join("\n"));
    const r = await convertOk(join(copy, "native"));
    expect(r.computed[0]!.requests.total).toBe(recs.length - 1);
    expect(r.computed[0]!.notes.join("\n")).toMatch(/1 warmup requests were left out/);
  });

  it("names the file, line and field when the output is not what 0.13.0 writes", async () => {
    const copy = tempCopy("sanity_concurrent");
    const file = join(copy, "native", "stage_0", "profile_export.jsonl");
    const recs = lines(file);
    delete recs[2].metadata.request_start_ns;
    writeFileSync(file, recs.map((x) => JSON.stringify(x)).join("\n"));
    expect(failed(await aiperf.converter.convert(join(copy, "native"), {}))).toMatch(/profile_export\.jsonl: line 3: field "metadata\.request_start_ns" must be a number \(aiperf 0\.13\.0 output expected\)/);

    recs[2] = "{not json";
    writeFileSync(file, recs.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join("\n"));
    expect(failed(await aiperf.converter.convert(join(copy, "native"), {}))).toMatch(/line 3 is not valid JSON/);

    const units = tempCopy("sanity_concurrent");
    const ufile = join(units, "native", "stage_0", "profile_export.jsonl");
    const urecs = lines(ufile);
    urecs[0].metrics.time_to_first_token.unit = "tokens";
    writeFileSync(ufile, urecs.map((x) => JSON.stringify(x)).join("\n"));
    expect(failed(await aiperf.converter.convert(join(units, "native"), {}))).toMatch(/metric "time_to_first_token" has unit "tokens"/);

    expect(failed(await aiperf.converter.convert(join(copy, "nowhere"), {}))).toMatch(/not found/);
    const empty = mkdtempSync(join(tmpdir(), "hub-aiperf-empty-"));
    expect(failed(await aiperf.converter.convert(empty, {}))).toMatch(/no profile_export_aiperf\.json or profile_export\.jsonl.*aiperf wrote no results/);
  });

  it("warns about an aiperf version it was not checked against", async () => {
    const copy = tempCopy("sanity_concurrent");
    const file = join(copy, "native", "stage_0", "profile_export_aiperf.json");
    const doc = JSON.parse(readFileSync(file, "utf8"));
    doc.aiperf_version = "0.14.0";
    writeFileSync(file, JSON.stringify(doc));
    const r = await convertOk(join(copy, "native"));
    expect(r.harnessVersion).toBe("0.14.0");
    expect(r.warnings.join("\n")).toMatch(/written by version 0\.14\.0; the converter was checked against 0\.13\.0 only/);
  });

  it("fixture folders hold only what the README lists", () => {
    for (const name of readdirSync(FIXTURES).filter((n) => n !== "README.md")) {
      expect(readdirSync(dir(name)).sort(), name).toEqual(["native", "sim-trace.jsonl"]);
    }
  });
});
