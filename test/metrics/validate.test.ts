/**
 * Garbage never becomes a number: impossible records are dropped and named, large outputs do not
 * overflow the stack, and the ITL shortcut for first/last-token-only harnesses is exact.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assembleMetrics, InvalidOutputError } from "../../src/metrics/assemble.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import type { RequestRecord } from "../../src/metrics/records.ts";
import { summarize, summarizeWeighted } from "../../src/metrics/stats.ts";
import { checkRecords } from "../../src/metrics/validate.ts";

const load = { type: "concurrent" as const, concurrency: 2 };
const good = (i: number): RequestRecord => ({ status: "ok", start_s: 100 + i, first_token_s: 100.05 + i, last_token_s: 100.5 + i, end_s: 100.5 + i, output_tokens: 10, input_tokens: 5 });
const run = { id: "x", harness: { name: "h", version: null }, profile: "p", target: null, model: null, runtime: null, started_at: null, ended_at: null, exit_code: null };

describe("impossible records", () => {
  const cases: [string, Partial<RequestRecord>, RegExp][] = [
    ["negative TTFT", { first_token_s: 99 }, /first_token_s before start_s/],
    ["end before start", { end_s: 50, last_token_s: undefined, first_token_s: undefined }, /end_s before start_s/],
    ["absurd token count", { output_tokens: 1e18 }, /token count/],
    ["fractional token count", { input_tokens: 2.5 }, /token count/],
    ["a 1e308 time", { end_s: 1e308 }, /out of range/],
    ["an infinite time", { last_token_s: Infinity }, /out of range/],
    ["NaN send time", { start_s: NaN }, /send time/],
    ["token times out of order", { token_times_s: [100.1, 100.05] }, /out of order/],
  ];
  for (const [what, patch, rule] of cases) {
    it(`${what}: dropped, counted and named; the rest computed`, () => {
      const records = [good(0), { ...good(1), ...patch }, good(2)];
      const stage = computeStage({ index: 0, load, records });
      expect(stage.requests.total).toBe(2);
      expect(stage.notes.join("\n")).toMatch(rule);
      expect(stage.notes.join("\n")).toMatch(/dropped 1 of 3 records: .*record 1/);
      expect(stage.latency.ttft_ms.min!).toBeGreaterThanOrEqual(0);
      expect(stage.latency.e2e_ms.min!).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(stage.throughput.output_tokens_per_s!)).toBe(true);
    });
  }

  it("disorder within float rounding (under 10 µs) is kept, put in order; beyond it the record is dropped", () => {
    const epoch = 1_796_431_639.474145;
    const rounding = { status: "ok" as const, start_s: epoch, first_token_s: epoch + 0.1, last_token_s: epoch + 1.2000003, end_s: epoch + 1.2, token_times_s: [epoch + 0.1, epoch + 1.2000003], output_tokens: 2 };
    const kept = computeStage({ index: 0, load, records: [rounding] });
    expect(kept.requests.total).toBe(1);
    expect(kept.latency.e2e_ms.min!).toBeGreaterThan(0);
    expect(kept.latency.itl_ms.max! - kept.latency.itl_ms.min!).toBeGreaterThanOrEqual(0);
    const beyond = computeStage({ index: 0, load, records: [good(0), { ...rounding, last_token_s: epoch + 1.20002, token_times_s: [epoch + 0.1, epoch + 1.20002] }] });
    expect(beyond.requests.total).toBe(1);
    expect(beyond.notes.join()).toMatch(/end_s before last_token_s/);
  });

  it("assembleMetrics warns per stage, and fails naming the rule when nothing is left", () => {
    const { warnings } = assembleMetrics(run, [{ index: 0, load, records: [good(0), { ...good(1), first_token_s: 0 }] }]);
    expect(warnings).toEqual([expect.stringMatching(/^stage 0: dropped 1 of 2 records/)]);
    expect(() => assembleMetrics(run, [{ index: 3, load, records: [{ ...good(0), end_s: -5 }] }])).toThrow(InvalidOutputError);
    expect(() => assembleMetrics(run, [{ index: 3, load, records: [{ ...good(0), end_s: -5 }] }])).toThrow(/stage 3: all 1 request records are impossible/);
  });

  it("a harness's own aggregate that is not a possible latency is not used", () => {
    const stage = computeStage({ index: 0, load, records: [], native: { ttft_ms: { summary: { count: 3, mean: -4, p50: 1 }, native_field: "ttft" } } });
    expect(stage.latency.ttft_ms.mean).toBeNull();
    expect(stage.latency.ttft_ms.provenance.note).toMatch(/mean = -4 is not a possible value/);
  });

  it("a harness window that is not an interval falls back to the records'", () => {
    const stage = computeStage({ index: 0, load, records: [good(0), good(1)], window: { start_s: 5, end_s: 1 } });
    expect(stage.duration_s).toBeCloseTo(1.5, 9);
    expect(stage.notes.join()).toMatch(/not a time interval/);
  });
});

describe("size", () => {
  it("1,000,000 records through compute.ts: no stack overflow, exact counts, bounded ITL memory", () => {
    const n = 1_000_000;
    const records: RequestRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const start = i * 0.001;
      // First and last token only (as guidellm exports): ITL from each request's mean gap.
      records[i] = { status: "ok", start_s: start, first_token_s: start + 0.05 + (i % 7) * 1e-3, last_token_s: start + 0.05 + 1.27 + (i % 7) * 1e-3, end_s: start + 1.33, output_tokens: 128, input_tokens: 256 };
    }
    const stage = computeStage({ index: 0, load, records });
    expect(stage.requests.successful).toBe(n);
    expect(stage.latency.itl_ms.count).toBe(n * 127);
    expect(stage.latency.itl_ms.p50!).toBeCloseTo(10, 9);
    expect(stage.duration_s).toBeCloseTo((n - 1) * 0.001 + 1.33, 6);
  });

  it("no spread of an array into a call anywhere in the source (Math.min(...xs) overflows from ~130k values)", () => {
    const roots = ["src", "converters", "harnesses"].map((r) => new URL(`../../${r}/`, import.meta.url).pathname);
    const offenders: string[] = [];
    for (const root of roots) {
      for (const f of readdirSync(root, { recursive: true, encoding: "utf8" })) {
        const p = join(root, f);
        if (!p.endsWith(".ts") || !statSync(p).isFile()) continue;
        readFileSync(p, "utf8").split("\n").forEach((line, i) => {
          if (/Math\.(min|max)\([^)]*\.\.\./.test(line) || /\.push\(\.\.\.(records|requests|rows|samples|values|times)/.test(line)) offenders.push(`${p}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(offenders).toEqual([]);
  });
});

describe("summarizeWeighted", () => {
  it("equals summarize of the expanded sample", () => {
    const values = [5, 1.5, 9, 1.5, 3.25, 7];
    const weights = [3, 1, 2, 4, 1, 127];
    const expanded = values.flatMap((v, i) => Array<number>(weights[i]!).fill(v));
    const a = summarizeWeighted(values, weights);
    const b = summarize(expanded);
    for (const k of Object.keys(b) as (keyof typeof b)[]) expect(a[k]!, k).toBeCloseTo(b[k]!, 12);
  });

  it("checkRecords keeps a sound record untouched", () => {
    const r = good(0);
    expect(checkRecords([r]).records[0]).toBe(r);
  });
});
