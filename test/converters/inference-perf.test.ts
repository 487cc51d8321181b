import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { inferencePerfConverter } from "../../converters/inference-perf.ts";
import type { ConvertResult } from "../../src/harness/contract.ts";
import { computeStage } from "../../src/metrics/compute.ts";
import type { Stage } from "../../src/metrics/schema.ts";

/**
 * Real inference-perf 0.7.0 runs against hub's simulator (TTFT 50 ms, ITL 10 ms), recorded with
 * the simulator's ground-truth trace beside them; see the fixtures' README.md.
 */
const FIXTURES = join(import.meta.dirname, "../fixtures/inference-perf/0.7.0");

interface TraceRecord {
  status: "ok" | "failed" | "aborted";
  completion_tokens: number;
}
const trace = (name: string): TraceRecord[] =>
  readFileSync(join(FIXTURES, name, "sim-trace.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as TraceRecord);
const stageFile = (name: string, i: number) =>
  JSON.parse(readFileSync(join(FIXTURES, name, "native/reports", `stage_${i}_lifecycle_metrics.json`), "utf8")) as {
    load_summary: { count: number };
    successes: { count: number };
    failures: { count: number };
  };

async function convert(path: string): Promise<Extract<ConvertResult, { kind: "ok" }>> {
  const r = await inferencePerfConverter.convert(path, {});
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
  const dir = mkdtempSync(join(tmpdir(), "hub-ip-"));
  tmp.push(dir);
  cpSync(join(FIXTURES, name, "native"), join(dir, "native"), { recursive: true });
  return join(dir, "native");
}

const FIXTURE_STAGES = {
  sanity_random: [{ type: "constant", rate: 2 }],
  two_stage_constant: [
    { type: "constant", rate: 2 },
    { type: "constant", rate: 4 },
  ],
  concurrent: [
    { type: "concurrent", concurrency: 1 },
    { type: "concurrent", concurrency: 2 },
  ],
  failures: [{ type: "constant", rate: 4 }],
} as const;

describe.each(Object.entries(FIXTURE_STAGES))("inference-perf 0.7.0 fixture %s", (name, loads) => {
  it("converts with the version from the adapter's config and no warning", async () => {
    const r = await convert(join(FIXTURES, name, "native"));
    expect(r.harnessVersion).toBe("0.7.0");
    expect(r.warnings).toEqual([]);
  });

  it("has one stage per load point, with the fixture's own request counts", async () => {
    const stages = await stagesOf(name);
    expect(stages.map((s) => s.load)).toEqual(loads);
    stages.forEach((s, i) => {
      const native = stageFile(name, i);
      expect(s.requests).toEqual({ total: native.load_summary.count, successful: native.successes.count, failed: native.failures.count, incomplete: 0 });
    });
    const sim = trace(name);
    expect(stages.reduce((n, s) => n + s.requests.total, 0)).toBe(sim.length);
    expect(stages.reduce((n, s) => n + s.requests.failed, 0)).toBe(sim.filter((t) => t.status !== "ok").length);
  });

  it("measures the simulator's latencies: TTFT 50 ms, ITL and TPOT 10 ms", async () => {
    for (const s of await stagesOf(name)) {
      within(s.latency.ttft_ms.p50, 50, 0.1);
      within(s.latency.itl_ms.p50, 10, 0.1);
      within(s.latency.tpot_ms.p50, 10, 0.05);
      for (const d of Object.values(s.latency)) expect(d.provenance.source).toBe("recomputed");
    }
  });

  it("counts the output tokens the simulator generated for each request", async () => {
    const stages = await convert(join(FIXTURES, name, "native"));
    const counted = stages.stages.flatMap((s) => s.records.filter((r) => r.status === "ok").map((r) => r.output_tokens!));
    // ignore_eos: the simulator generates exactly the max_tokens each request asked for.
    const asked = trace(name).filter((t) => t.status === "ok").map((t) => t.completion_tokens);
    expect([...counted].sort((a, b) => a - b)).toEqual([...asked].sort((a, b) => a - b));
    for (const s of stages.stages) for (const r of s.records) if (r.status === "ok") expect(r.token_times_s).toHaveLength(r.output_tokens!);
  });
});

describe("inference-perf converter", () => {
  it("reads fixed output lengths as asked (concurrent fixture: 64 tokens)", async () => {
    for (const s of await stagesOf("concurrent")) {
      expect(s.tokens.output_per_request.min).toBe(64);
      expect(s.tokens.output_per_request.max).toBe(64);
    }
  });

  it("counts failed requests and the failure rate", async () => {
    const [s] = await stagesOf("failures");
    expect(s!.requests.failed).toBe(8);
    expect(s!.failure_rate).toBeCloseTo(8 / 20, 10);
    const r = await convert(join(FIXTURES, "failures/native"));
    expect(r.stages[0]!.records.find((x) => x.status === "failed")!.error).toMatch(/^HTTP Error 500: .*injected failure/);
  });

  it("accepts the report folder itself", async () => {
    const r = await convert(join(FIXTURES, "two_stage_constant/native/reports"));
    expect(r.harnessVersion).toBe("0.7.0");
    expect(r.stages).toHaveLength(2);
  });

  it("names the file and the field when a field it reads is missing", async () => {
    const native = copyOf("sanity_random");
    const file = join(native, "reports/per_request_lifecycle_metrics.json");
    const doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>[];
    delete doc[3]!["start_time"];
    writeFileSync(file, JSON.stringify(doc));
    const r = await inferencePerfConverter.convert(native, {});
    expect(r.kind).toBe("failed");
    if (r.kind === "failed") {
      expect(r.reason).toContain(file);
      expect(r.reason).toContain('field "[3].start_time" missing');
      expect(r.reason).toContain("inference-perf 0.7.0");
    }
  });

  it("names a stage file's missing field", async () => {
    const native = copyOf("two_stage_constant");
    const file = join(native, "reports/stage_1_lifecycle_metrics.json");
    const doc = JSON.parse(readFileSync(file, "utf8")) as { successes: Record<string, unknown> };
    delete doc.successes["count"];
    writeFileSync(file, JSON.stringify(doc));
    const r = await inferencePerfConverter.convert(native, {});
    expect(r).toMatchObject({ kind: "failed" });
    if (r.kind === "failed") expect(r.reason).toMatch(/stage_1_lifecycle_metrics\.json: field "successes\.count" missing/);
  });

  it("warns about a version it was not checked against", async () => {
    const native = copyOf("sanity_random");
    const file = join(native, "config.yml");
    writeFileSync(file, readFileSync(file, "utf8").replace(/^# harness-hub: config for inference-perf 0\.7\.0/, "# harness-hub: config for inference-perf 0.9.0"));
    const r = await convert(native);
    expect(r.harnessVersion).toBe("0.9.0");
    expect(r.warnings.join("\n")).toMatch(/version 0\.9\.0.*checked against 0\.7\.0/);
  });

  it("warns when nothing records the version (output not written through hub)", async () => {
    const native = copyOf("sanity_random");
    rmSync(join(native, "config.yml"));
    const r = await convert(native);
    expect(r.harnessVersion).toBeNull();
    expect(r.warnings.join("\n")).toMatch(/does not say which version/);
  });

  it("falls back to the stage files' counts and aggregates without per-request data", async () => {
    const native = copyOf("failures");
    rmSync(join(native, "reports/per_request_lifecycle_metrics.json"));
    const r = await convert(native);
    expect(r.warnings.join("\n")).toMatch(/no per_request_lifecycle_metrics\.json/);
    const [s] = r.stages.map(computeStage);
    expect(s!.requests).toEqual({ total: 20, successful: 12, failed: 8, incomplete: 0 });
    expect(s!.latency.ttft_ms.provenance).toMatchObject({ source: "native", native_field: "stage_0_lifecycle_metrics.json: successes.latency.time_to_first_token" });
    within(s!.latency.ttft_ms.p50, 50, 0.1);
    within(s!.throughput.requests_per_s, 12 / 5, 0.2);
  });

  it("refuses per-request data the stage files do not account for", async () => {
    const native = copyOf("two_stage_constant");
    const file = join(native, "reports/per_request_lifecycle_metrics.json");
    const doc = JSON.parse(readFileSync(file, "utf8")) as unknown[];
    writeFileSync(file, JSON.stringify(doc.slice(1)));
    const r = await inferencePerfConverter.convert(native, {});
    expect(r).toMatchObject({ kind: "failed" });
    if (r.kind === "failed") expect(r.reason).toMatch(/25 requests, but the stage files count 26/);
  });

  it("fails clearly on a folder without reports", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-ip-"));
    tmp.push(dir);
    const r = await inferencePerfConverter.convert(dir, {});
    expect(r).toMatchObject({ kind: "failed" });
    if (r.kind === "failed") expect(r.reason).toMatch(/no inference-perf reports/);
  });
});
