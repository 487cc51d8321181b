import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { pythonJsonToJson, vllmBenchmarkConverter } from "../../converters/vllm-benchmark.ts";
import type { ConvertResult } from "../../src/harness/contract.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import type { Stage } from "../../src/metrics/schema.ts";

/**
 * Real `vllm bench serve` 0.33.0 runs against hub's simulator (TTFT 50 ms, ITL 10 ms), recorded
 * with the simulator's ground-truth trace beside them; see the fixtures' README.md.
 */
const FIXTURES = join(import.meta.dirname, "../fixtures/vllm-benchmark/0.33.0");

type Native = Record<string, unknown> & { errors: string[]; output_lens: number[]; completed: number; failed: number; duration: number };
const native = (name: string, i = 0): Native => JSON.parse(pythonJsonToJson(readFileSync(join(FIXTURES, name, "native", `stage-${i}.json`), "utf8"))) as Native;
const trace = (name: string): { status: string; completion_tokens: number }[] =>
  readFileSync(join(FIXTURES, name, "sim-trace.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

async function convert(path: string, ctx = {}): Promise<Extract<ConvertResult, { kind: "ok" }>> {
  const r = await vllmBenchmarkConverter.convert(path, ctx);
  if (r.kind !== "ok") throw new Error(r.reason);
  return r;
}
const stagesOf = async (name: string): Promise<Stage[]> => (await convert(join(FIXTURES, name, "native"))).stages.map(computeStage);
const within = (value: number | null, target: number, fraction: number) => {
  expect(value).not.toBeNull();
  expect(Math.abs(value! - target) / target, `${value} vs ${target}`).toBeLessThanOrEqual(fraction);
};

const tmp: string[] = [];
afterAll(() => tmp.forEach((d) => rmSync(d, { recursive: true, force: true })));
/** A writable copy of a fixture's native/ folder. */
function copyOf(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), "hub-vb-"));
  tmp.push(dir);
  cpSync(join(FIXTURES, name, "native"), join(dir, "native"), { recursive: true });
  return join(dir, "native");
}

const FIXTURE_STAGES = {
  sanity_concurrent: [{ load: { type: "concurrent", concurrency: 2 }, requests: 40, failed: 0, output: 128 }],
  two_stage_constant: [
    { load: { type: "constant", rate: 2 }, requests: 10, failed: 0, output: 32 },
    { load: { type: "constant", rate: 5 }, requests: 20, failed: 0, output: 32 },
  ],
  failures: [{ load: { type: "concurrent", concurrency: 4 }, requests: 30, failed: 8, output: 64 }],
} as const;

describe("vllm-benchmark converter on real 0.33.0 output", () => {
  it.each(Object.entries(FIXTURE_STAGES))("%s: counts, load points, and latencies near the simulator's", async (name, expected) => {
    const r = await convert(join(FIXTURES, name, "native"));
    expect(r.harnessVersion).toBe("0.33.0");
    expect(r.warnings).toEqual([]);
    const stages = r.stages.map(computeStage);
    expect(stages.map((s) => s.index)).toEqual(expected.map((_, i) => i));
    for (const [i, s] of stages.entries()) {
      const e = expected[i]!;
      expect(s.load).toEqual(e.load);
      expect(s.requests).toEqual({ total: e.requests, successful: e.requests - e.failed, failed: e.failed, incomplete: 0 });
      // Every successful request generated exactly the requested length (ignore_eos).
      expect(s.tokens.output_per_request).toMatchObject({ min: e.output, max: e.output, count: e.requests - e.failed });
      within(s.latency.ttft_ms.p50, 50, 0.1);
      within(s.latency.itl_ms.p50, 10, 0.1);
      within(s.latency.tpot_ms.p50, 10, 0.02);
      within(s.latency.tpot_ms.mean, 10, 0.02);
      for (const k of ["ttft_ms", "tpot_ms", "itl_ms", "ntpot_ms", "e2e_ms"] as const) expect(s.latency[k].provenance.source, k).toBe("recomputed");
      // The pooled ITL has one gap per output token after the first.
      expect(s.latency.itl_ms.count).toBe((e.requests - e.failed) * (e.output - 1));
    }
  });

  it("recomputes what vLLM computed: its summary keys and throughputs agree with hub's", async () => {
    for (const [name, expected] of Object.entries(FIXTURE_STAGES)) {
      const stages = await stagesOf(name);
      for (const i of expected.keys()) {
        const n = native(name, i);
        const s = stages[i]!;
        const num = (k: string) => n[k] as number;
        // Same samples, same estimators (numpy's default percentile is hub's type 7, std is population).
        for (const [hub, v] of [["ttft_ms", "ttft"], ["tpot_ms", "tpot"], ["itl_ms", "itl"], ["e2e_ms", "e2el"]] as const) {
          const d = s.latency[hub];
          expect(d.mean!, `${name} ${v} mean`).toBeCloseTo(num(`mean_${v}_ms`), 6);
          expect(d.stddev!, `${name} ${v} std`).toBeCloseTo(num(`std_${v}_ms`), 6);
          expect(d.p50!, `${name} ${v} p50`).toBeCloseTo(num(`median_${v}_ms`), 6);
          expect(d.p99!, `${name} ${v} p99`).toBeCloseTo(num(`p99_${v}_ms`), 6);
          expect(d.p999!, `${name} ${v} p99.9`).toBeCloseTo(num(`p99.9_${v}_ms`), 6);
        }
        // The window is vLLM's duration, so the rates are vLLM's.
        expect(s.duration_s).toBeCloseTo(n.duration, 9);
        expect(s.throughput.requests_per_s!).toBeCloseTo(num("request_throughput"), 9);
        expect(s.throughput.output_tokens_per_s!).toBeCloseTo(num("output_throughput"), 9);
        expect(s.throughput.total_tokens_per_s!).toBeCloseTo(num("total_token_throughput"), 9);
      }
    }
  });

  it("counts failures as the simulator did: HTTP 500s with vLLM's reason", async () => {
    const [s] = await stagesOf("failures");
    const t = trace("failures");
    expect(t.filter((x) => x.status === "failed")).toHaveLength(s!.requests.failed);
    expect(s!.failure_rate).toBeCloseTo(8 / 30, 9);
    const n = native("failures");
    expect([n.completed, n.failed]).toEqual([22, 8]);
    const r = await convert(join(FIXTURES, "failures", "native"));
    const failed = r.stages[0]!.records.filter((x) => x.status === "failed");
    expect(failed.map((x) => x.error)).toEqual(Array(8).fill("Internal Server Error"));
    // Output tokens of the successes match the simulator's own count.
    const ok = r.stages[0]!.records.filter((x) => x.status === "ok");
    expect(ok.reduce((a, x) => a + x.output_tokens!, 0)).toBe(t.filter((x) => x.status === "ok").reduce((a, x) => a + x.completion_tokens, 0));
  });

  it("builds every token time from ttft and the chunk gaps, ending at the request's latency", async () => {
    const r = await convert(join(FIXTURES, "sanity_concurrent", "native"));
    for (const rec of r.stages[0]!.records) {
      expect(rec.token_times_s).toHaveLength(128);
      expect(rec.token_times_s![0]).toBe(rec.first_token_s);
      expect(rec.token_times_s![127]).toBeCloseTo(rec.end_s!, 9);
    }
  });

  it("converts one result file given directly", async () => {
    const r = await convert(join(FIXTURES, "two_stage_constant", "native", "stage-1.json"));
    expect(r.stages.map((s) => [s.index, s.load])).toEqual([[1, { type: "constant", rate: 5 }]]);
  });

  it("without hub's metadata, infers the load point from vLLM's own fields", async () => {
    const dir = copyOf("two_stage_constant");
    for (const i of [0, 1]) {
      const file = join(dir, `stage-${i}.json`);
      const text = readFileSync(file, "utf8").replace(/, "hub_harness_version": "0\.33\.0", "hub_load": "constant", "hub_stage": "\d"/, "");
      expect(text).not.toContain("hub_");
      writeFileSync(file, text);
    }
    const r = await vllmBenchmarkConverter.convert(dir, {});
    if (r.kind !== "ok") throw new Error(r.reason);
    expect(r.harnessVersion).toBeNull();
    expect(r.warnings).toEqual([expect.stringMatching(/does not say which version.*0\.33\.0/)]);
    expect(r.stages.map((s) => s.load)).toEqual([
      { type: "constant", rate: 2 },
      { type: "constant", rate: 5 },
    ]);
    // The version hub ran, when the run passes it.
    expect((await convert(dir, { harnessVersion: "0.33.0" })).warnings).toEqual([]);
  });

  it("warns about a version it was not checked against", async () => {
    const dir = copyOf("failures");
    const file = join(dir, "stage-0.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"hub_harness_version": "0.33.0"', '"hub_harness_version": "0.34.0"'));
    const r = await convert(dir);
    expect(r.harnessVersion).toBe("0.34.0");
    expect(r.warnings).toEqual([expect.stringMatching(/version 0\.34\.0.*checked against 0\.33\.0 only/)]);
  });

  it("fails naming the file and the missing field", async () => {
    const dir = copyOf("sanity_concurrent");
    const file = join(dir, "stage-0.json");
    const doc = JSON.parse(readFileSync(file, "utf8"));
    delete doc.start_times;
    writeFileSync(file, JSON.stringify(doc));
    const r = await vllmBenchmarkConverter.convert(dir, {});
    expect(r.kind).toBe("failed");
    expect(r.kind === "failed" && r.reason).toMatch(new RegExp(`^${file.replace(/[.]/g, "\\.")}: field "start_times" missing \\(vllm bench serve 0\\.33\\.0 output expected; found version 0\\.33\\.0\\)$`));

    delete doc.ttfts;
    writeFileSync(file, JSON.stringify(doc));
    const r2 = await vllmBenchmarkConverter.convert(dir, {});
    expect(r2.kind === "failed" && r2.reason).toMatch(/field "ttfts" missing: .*only with --save-detailed/);

    const doc3 = JSON.parse(readFileSync(join(FIXTURES, "sanity_concurrent", "native", "stage-0.json"), "utf8"));
    doc3.itls[3] = "x";
    writeFileSync(file, JSON.stringify(doc3));
    const r3 = await vllmBenchmarkConverter.convert(dir, {});
    expect(r3.kind === "failed" && r3.reason).toContain(`${file}: field "itls[3]" must be array`);

    doc3.itls[3] = [];
    doc3.errors.pop();
    writeFileSync(file, JSON.stringify(doc3));
    const r4 = await vllmBenchmarkConverter.convert(dir, {});
    expect(r4.kind === "failed" && r4.reason).toContain(`${file}: field "errors" has 39 entries but "start_times" has 40`);
  });

  it("fails when the run wrote no result", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-vb-"));
    tmp.push(dir);
    const r = await vllmBenchmarkConverter.convert(dir, {});
    expect(r.kind === "failed" && r.reason).toMatch(/no stage-0\.json .*the harness wrote no result/);
  });
});

describe("pythonJsonToJson", () => {
  it("turns Python's bare Infinity and NaN into JSON, leaving strings alone", () => {
    const text = '{"a": Infinity, "b": -Infinity, "c": NaN, "d": "Infinity, NaN \\" Infinity", "e": [NaN, 1]}';
    expect(JSON.parse(pythonJsonToJson(text))).toEqual({ a: "inf", b: "-inf", c: null, d: 'Infinity, NaN " Infinity', e: [null, 1] });
    // vLLM writes constant-rate burstiness as Infinity.
    expect(readFileSync(join(FIXTURES, "two_stage_constant", "native", "stage-0.json"), "utf8")).toContain('"burstiness": Infinity');
  });
});
