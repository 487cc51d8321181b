import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import genaiBench from "../../harnesses/genai-bench/index.ts";
import { computeStage, type ConvertResult } from "../../src/index.ts";
import { Stage } from "../../src/metrics/schema.ts";
import { loadProfile } from "../../src/profile/load.ts";

/** Real genai-bench 0.0.5 runs against hub's simulator (TTFT 50 ms, ITL 10 ms); see README.md there. */
const FIXTURES = join(import.meta.dirname, "../fixtures/genai-bench/0.0.5");
const ITL_MS = 10;
const dir = (name: string) => join(FIXTURES, name);
const experiment = (name: string) => join(dir(name), "native", "genai-bench");
const runFiles = (name: string) => readdirSync(experiment(name)).filter((f) => f.includes("_num_concurrency_"));
const runFile = (name: string, concurrency: number) => {
  const f = runFiles(name).find((n) => n.includes(`_num_concurrency_${concurrency}_`))!;
  return { file: join(experiment(name), f), doc: JSON.parse(readFileSync(join(experiment(name), f), "utf8")) };
};
const trace = (name: string) =>
  readFileSync(join(dir(name), "sim-trace.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { status: string; received_s: number; first_token_s: number; completion_tokens: number; prompt_tokens: number });
const within = (v: number | null, target: number, tol = 0.1) => v !== null && Math.abs(v - target) <= tol * target;

async function convertOk(path: string, ctx = {}) {
  const r = await genaiBench.converter.convert(path, ctx);
  if (r.kind !== "ok") throw new Error(r.reason);
  return { ...r, computed: r.stages.map((s) => Stage.parse(computeStage(s))) };
}
const failed = (r: ConvertResult) => (r.kind === "failed" ? r.reason : "unexpectedly ok");
function tempCopy(name: string): string {
  const out = join(mkdtempSync(join(tmpdir(), "hub-genai-bench-")), name);
  cpSync(dir(name), out, { recursive: true });
  return out;
}

describe("genai-bench converter on recorded 0.0.5 runs", () => {
  const cases = [
    { name: "sanity_concurrent_chat", levels: [2], out: 128 },
    { name: "two_concurrency", levels: [1, 2], out: 64 },
    { name: "failures", levels: [2], out: 32 },
  ];

  for (const { name, levels, out } of cases) {
    it(`${name}: stages, load points, counts, latencies and throughputs`, async () => {
      const r = await convertOk(join(dir(name), "native"));
      expect(r.harnessVersion).toBe("0.0.5");
      expect(r.warnings).toEqual([]);
      expect(r.computed.map((s) => s.load)).toEqual(levels.map((c) => ({ type: "concurrent", concurrency: c })));
      expect(r.computed.map((s) => s.index)).toEqual(levels.map((_, i) => i));

      const served = trace(name);
      const recorded = r.computed.reduce((n, s) => n + s.requests.total, 0);
      const bad = r.computed.reduce((n, s) => n + s.requests.failed, 0);
      // Every failure the simulator injected is counted; requests genai-bench aborted when it
      // stopped a run (the simulator logs them as aborted) are not recorded at all.
      expect(bad).toBe(served.filter((t) => t.status === "failed").length);
      expect(recorded).toBe(served.filter((t) => t.status !== "aborted").length);

      r.computed.forEach((s, i) => {
        const { doc } = runFile(name, levels[i]!);
        const agg = doc.aggregated_metrics;
        expect(s.requests).toEqual({ total: agg.num_requests, successful: agg.num_completed_requests, failed: agg.num_error_requests, incomplete: 0 });
        expect(s.duration_s).toBe(agg.run_duration);
        // Same requests and window as genai-bench's own figures.
        expect(s.latency.ttft_ms.mean).toBeCloseTo(agg.stats.ttft.mean * 1000, 6);
        expect(s.latency.ttft_ms.p50).toBeCloseTo(agg.stats.ttft.p50 * 1000, 6);
        // genai-bench leaves requests whose tokens came all at once out of its TPOT; hub keeps them.
        const dropped = doc.individual_request_metrics.filter((x: { error_code: number | null; tpot: number | null }) => x.error_code === null && x.tpot === null).length;
        if (dropped === 0) expect(s.latency.tpot_ms.mean).toBeCloseTo(agg.stats.tpot.mean * 1000, 6);
        else expect(s.notes.join("\n")).toMatch(new RegExp(`${dropped} requests got all tokens after the first within 1 ms`));
        expect(s.latency.e2e_ms.mean).toBeCloseTo(agg.stats.e2e_latency.mean * 1000, 6);
        expect(s.throughput.output_tokens_per_s).toBeCloseTo(agg.mean_output_throughput_tokens_per_s, 6);
        expect(s.throughput.input_tokens_per_s).toBeCloseTo(agg.mean_input_throughput_tokens_per_s, 6);
        expect(s.throughput.requests_per_s).toBeCloseTo(agg.requests_per_second, 6);
        // ITL is each request's mean gap (no token times), and says so.
        expect(s.latency.itl_ms.provenance.note).toMatch(/had no per-token times/);
        expect(within(s.latency.itl_ms.p50, ITL_MS), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
        expect(within(s.latency.tpot_ms.p50, ITL_MS), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);
        expect(s.tokens.output_per_request).toMatchObject({ min: out, max: out });
        expect(s.notes.join("\n")).toMatch(/records no clock times/);
      });

      // Prompt tokens are the server's usage counts (256 synthetic tokens plus the chat template).
      const okServed = served.filter((t) => t.status === "ok").map((t) => t.prompt_tokens);
      const okRecorded = r.stages.flatMap((s) => s.records.filter((x) => x.status === "ok").map((x) => x.input_tokens!));
      for (const n of okRecorded) expect(okServed).toContain(n);
    });
  }

  it("failed requests keep genai-bench's error code and message", async () => {
    const r = await convertOk(join(dir("failures"), "native"));
    const errs = r.stages[0]!.records.filter((x) => x.status === "failed");
    expect(errs.length).toBeGreaterThan(0);
    for (const e of errs) expect(e.error).toMatch(/^500: .*injected failure/);
  });

  it("keeps requests genai-bench leaves out of its own TPOT (tokens read all at once), with a note", async () => {
    const copy = tempCopy("sanity_concurrent_chat");
    const name = runFile("sanity_concurrent_chat", 2).file.split("/").pop()!;
    const target = join(copy, "native", "genai-bench", name);
    const doc = JSON.parse(readFileSync(target, "utf8"));
    // What genai-bench writes for a request whose tokens after the first came within 1 ms.
    doc.individual_request_metrics[0].tpot = null;
    writeFileSync(target, JSON.stringify(doc));
    const r = await convertOk(join(copy, "native"));
    expect(r.computed[0]!.latency.tpot_ms.count).toBe(doc.individual_request_metrics.length);
    expect(r.computed[0]!.notes.join("\n")).toMatch(/1 requests got all tokens after the first within 1 ms .* genai-bench leaves them out of its tpot, hub keeps them/);
  });

  it("a run file in milliseconds (--metrics-time-unit ms) converts to the same metrics", async () => {
    const copy = tempCopy("sanity_concurrent_chat");
    const { file } = runFile("sanity_concurrent_chat", 2);
    const target = join(copy, "native", "genai-bench", file.split("/").pop()!);
    const doc = JSON.parse(readFileSync(target, "utf8"));
    doc._time_unit = "ms";
    for (const r of doc.individual_request_metrics) for (const f of ["ttft", "tpot", "e2e_latency", "output_latency"]) if (r[f] !== null) r[f] *= 1000;
    writeFileSync(target, JSON.stringify(doc));
    const [a, b] = [await convertOk(join(dir("sanity_concurrent_chat"), "native")), await convertOk(join(copy, "native"))];
    expect(b.computed[0]!.latency.ttft_ms.p50).toBeCloseTo(a.computed[0]!.latency.ttft_ms.p50!, 6);
    expect(b.computed[0]!.latency.e2e_ms.mean).toBeCloseTo(a.computed[0]!.latency.e2e_ms.mean!, 6);
    expect(b.computed[0]!.throughput).toEqual(a.computed[0]!.throughput);
  });

  it("finds the experiment from native/, the folder itself or one run file", async () => {
    for (const p of [join(dir("two_concurrency"), "native"), experiment("two_concurrency")]) expect((await convertOk(p)).stages).toHaveLength(2);
    const one = await convertOk(runFile("two_concurrency", 2).file);
    expect(one.stages.map((s) => s.load)).toEqual([{ type: "concurrent", concurrency: 2 }]);
  });

  it("keeps each stage's index when a concurrency level saved nothing, and says so", async () => {
    const copy = tempCopy("two_concurrency");
    rmSync(join(copy, "native", "genai-bench", runFile("two_concurrency", 1).file.split("/").pop()!));
    const r = await convertOk(join(copy, "native"));
    expect(r.stages.map((s) => s.index)).toEqual([1]);
    expect(r.warnings.join("\n")).toMatch(/no results for D\(256,64\) at concurrency 1/);
  });

  it("synchronous profiles map concurrency 1 back to synchronous", async () => {
    const { profile } = loadProfile("sanity_concurrent", ["api.type=chat", "load.type=synchronous", 'load.stages=[{"requests":6}]']);
    const copy = tempCopy("two_concurrency");
    rmSync(join(copy, "native", "genai-bench", runFile("two_concurrency", 2).file.split("/").pop()!));
    const meta = join(copy, "native", "genai-bench", "experiment_metadata.json");
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, "utf8")), num_concurrency: [1] }));
    const r = await convertOk(join(copy, "native"), { profile });
    expect(r.computed.map((s) => s.load)).toEqual([{ type: "synchronous" }]);
  });

  it("names the file and field when the output is not what 0.0.5 writes", async () => {
    const copy = tempCopy("sanity_concurrent_chat");
    const name = runFile("sanity_concurrent_chat", 2).file.split("/").pop()!;
    const target = join(copy, "native", "genai-bench", name);
    const doc = JSON.parse(readFileSync(target, "utf8"));
    doc.individual_request_metrics[3].ttft = "fast";
    writeFileSync(target, JSON.stringify(doc));
    expect(failed(await genaiBench.converter.convert(join(copy, "native"), {}))).toMatch(
      new RegExp(`${name.replace(/[()]/g, "\\$&")}: field "individual_request_metrics\\[3\\]\\.ttft" must be a number or null \\(genai-bench 0\\.0\\.5 output expected\\)`),
    );
    delete doc.aggregated_metrics.run_duration;
    doc.individual_request_metrics[3].ttft = 0.05;
    writeFileSync(target, JSON.stringify(doc));
    expect(failed(await genaiBench.converter.convert(join(copy, "native"), {}))).toMatch(/field "aggregated_metrics\.run_duration" must be a number/);
    rmSync(target);
    expect(failed(await genaiBench.converter.convert(join(copy, "native"), {}))).toMatch(/no run results .*genai-bench finished no run/);
    const empty = mkdtempSync(join(tmpdir(), "hub-genai-bench-empty-"));
    expect(failed(await genaiBench.converter.convert(empty, {}))).toMatch(/no experiment_metadata\.json/);
  });

  it("warns about a genai-bench version it was not checked against", async () => {
    const copy = tempCopy("sanity_concurrent_chat");
    const meta = join(copy, "native", "genai-bench", "experiment_metadata.json");
    writeFileSync(meta, JSON.stringify({ ...JSON.parse(readFileSync(meta, "utf8")), benchmark_version: "0.0.6" }));
    const r = await convertOk(join(copy, "native"));
    expect(r.harnessVersion).toBe("0.0.6");
    expect(r.warnings.join("\n")).toMatch(/written by version 0\.0\.6; the converter was checked against 0\.0\.5 only/);
  });

  it("fixture folders hold only what the README lists", () => {
    for (const name of readdirSync(FIXTURES).filter((n) => n !== "README.md")) {
      expect(readdirSync(dir(name)).sort(), name).toEqual(["native", "sim-trace.jsonl"]);
      expect(readdirSync(experiment(name)).every((f) => f.endsWith(".json")), name).toBe(true);
    }
  });
});
