import { describe, expect, it } from "vitest";
import { computeStage } from "../../src/metrics/compute.ts";
import type { RequestRecord } from "../../src/metrics/records.ts";
import { Stage } from "../../src/metrics/schema.ts";

/** A request sent at t0 with TTFT ttft and n tokens every itl seconds. */
function req(t0: number, ttft: number, itl: number, n: number, extra: Partial<RequestRecord> = {}): RequestRecord {
  const token_times_s = Array.from({ length: n }, (_, i) => t0 + ttft + i * itl);
  return { status: "ok", start_s: t0, first_token_s: token_times_s[0]!, last_token_s: token_times_s[n - 1]!, end_s: token_times_s[n - 1]!, token_times_s, input_tokens: 100, output_tokens: n, ...extra };
}

describe("computeStage", () => {
  const load = { type: "concurrent" as const, concurrency: 2 };

  it("recomputes every latency with hub's definitions", () => {
    const records = [req(1000, 0.05, 0.01, 11), req(1000.5, 0.05, 0.01, 11)];
    const s = computeStage({ index: 0, load, records });
    expect(Stage.parse(s)).toBeTruthy();
    expect(s.latency.ttft_ms.p50).toBeCloseTo(50, 6);
    expect(s.latency.itl_ms.count).toBe(20);
    expect(s.latency.itl_ms.p50).toBeCloseTo(10, 6);
    // e2e = 50 + 10*10 = 150 ms; TPOT = (150 - 50) / 10 = 10; NTPOT = 150 / 11
    expect(s.latency.e2e_ms.p50).toBeCloseTo(150, 6);
    expect(s.latency.tpot_ms.p50).toBeCloseTo(10, 6);
    expect(s.latency.ntpot_ms.p50).toBeCloseTo(150 / 11, 6);
    expect(s.latency.ttft_ms.provenance.source).toBe("recomputed");
  });

  it("divides successful work by the window and counts failures apart from incomplete requests", () => {
    const records: RequestRecord[] = [
      req(0, 0.05, 0.01, 11),
      req(1, 0.05, 0.01, 11),
      { status: "failed", start_s: 2, end_s: 2.1, error: "HTTP 500" },
      { status: "incomplete", start_s: 3 },
    ];
    const s = computeStage({ index: 1, load, records, window: { start_s: 0, end_s: 4 } });
    expect(s.duration_s).toBe(4);
    expect(s.requests).toEqual({ total: 4, successful: 2, failed: 1, incomplete: 1 });
    expect(s.failure_rate).toBeCloseTo(1 / 3, 10);
    expect(s.throughput.requests_per_s).toBe(0.5);
    expect(s.throughput.output_tokens_per_s).toBe(22 / 4);
    expect(s.throughput.input_tokens_per_s).toBe(200 / 4);
    expect(s.throughput.total_tokens_per_s).toBe(222 / 4);
  });

  it("approximates ITL from first and last token times and says so", () => {
    const r = req(0, 0.05, 0.01, 5);
    delete r.token_times_s;
    const s = computeStage({ index: 0, load, records: [r] });
    expect(s.latency.itl_ms.count).toBe(4);
    expect(s.latency.itl_ms.p50).toBeCloseTo(10, 6);
    expect(s.latency.itl_ms.provenance.note).toMatch(/understated/);
  });

  it("falls back to a native aggregate, marked native, only when records cannot give the metric", () => {
    const r: RequestRecord = { status: "ok", start_s: 0, end_s: 1, output_tokens: 10 };
    const s = computeStage({
      index: 0,
      load,
      records: [r],
      native: { ttft_ms: { summary: { count: 1, mean: 42, p50: 42 }, native_field: "x.ttft", note: "harness definition" } },
    });
    expect(s.latency.ttft_ms).toMatchObject({ p50: 42, p99: null, provenance: { source: "native", native_field: "x.ttft" } });
    expect(s.latency.e2e_ms.provenance.source).toBe("recomputed");
  });

  it("reports nulls, not zeros, for a stage where nothing succeeded", () => {
    const s = computeStage({ index: 0, load, records: [{ status: "failed", start_s: 0, end_s: 1 }] });
    expect(s.failure_rate).toBe(1);
    expect(s.latency.ttft_ms.count).toBe(0);
    expect(s.latency.ttft_ms.p50).toBeNull();
    expect(s.throughput.output_tokens_per_s).toBeNull();
    expect(Stage.parse(s)).toBeTruthy();
  });
});
