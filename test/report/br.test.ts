import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { toBenchmarkReports, uuid5 } from "../../src/report/br.ts";
import { loadRuns } from "../../src/report/load.ts";
import { FIXTURE_RUNS } from "./fixtures.ts";

const temps: string[] = [];
/** A temporary directory, removed after this file's tests. */
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "hub-report-"));
  temps.push(d);
  return d;
}
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

const schema = JSON.parse(readFileSync("schemas/br-v0.2.schema.json", "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const errors = () => JSON.stringify(validate.errors, null, 1);

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("BR v0.2 export", () => {
  describe.each(FIXTURE_RUNS.map((p) => [p]))("%s", (path) => {
    const run = loadRuns([path])[0]!;
    const reports = toBenchmarkReports(run);
    const docs = reports.map((r) => r.report as Any);

    it("validates against the BR v0.2 JSON Schema, one report per stage", () => {
      expect(reports.map((r) => r.stage)).toEqual(run.metrics.stages.map((s) => s.index));
      for (const r of reports) expect(validate(r.report), errors()).toBe(true);
    });

    it("shares one experiment id; each report has its own id and its stage", () => {
      expect(new Set(docs.map((d) => d.run.eid)).size).toBe(1);
      expect(new Set(docs.map((d) => d.run.uid)).size).toBe(docs.length);
      expect(docs.map((d) => d.scenario.load.standardized.stage)).toEqual(run.metrics.stages.map((s) => s.index));
      expect(reports.map((r) => r.fileName)).toEqual(run.metrics.stages.map((s) => `benchmark_report_v0.2,_stage_${s.index}.yaml`));
    });

    it("avoids llm-d's converter pitfalls: one unit per quantity, input token rate, consistent counts", () => {
      run.metrics.stages.forEach((s, i) => {
        const agg = docs[i]!.results.request_performance.aggregate;
        const lat = agg.latency as Record<string, Any>;
        // Seconds throughout, whatever the harness reported in.
        for (const [k, v] of Object.entries(lat)) expect(v.units, k).toBe(["time_to_first_token", "request_latency"].includes(k) ? "s" : "s/token");
        expect(lat.time_to_first_token!.mean).toBeCloseTo(s.latency.ttft_ms.mean! / 1000, 9);
        expect(lat.request_latency!.p99p9).toBeCloseTo(s.latency.e2e_ms.p999! / 1000, 9);
        expect(lat.normalized_time_per_output_token!.p50).toBeCloseTo(s.latency.ntpot_ms.p50! / 1000, 9);
        expect(agg.throughput.input_token_rate).toEqual({ units: "tokens/s", mean: expect.closeTo(s.throughput.input_tokens_per_s!, 6) });
        expect(agg.requests).toMatchObject({ total: s.requests.total, failures: s.requests.failed, incomplete: s.requests.incomplete });
        expect(s.requests.total).toBe(s.requests.successful + s.requests.failed + s.requests.incomplete);
        const std = docs[i]!.scenario.load.standardized;
        expect(std).toMatchObject({ tool: run.metrics.run.harness.name, tool_version: run.metrics.run.harness.version, parallelism: 1 });
        if (s.load.concurrency) expect(std.concurrency).toBe(s.load.concurrency);
        if (s.load.rate) expect(std.rate_qps).toBe(s.load.rate);
      });
    });

    it("round-trips through the YAML the command writes", async () => {
      const { execa } = await import("execa");
      const out = tempDir();
      const r = await execa("node", ["bin/hub.js", "export", "--format", "br-v0.2", path, "--out", out], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual(reports.map((x) => x.fileName).sort());
      // Read as PyYAML would (YAML 1.1), so a value it would turn into a bool, float or date fails.
      for (const x of reports) expect(parseYaml(readFileSync(join(out, x.fileName), "utf8"), { version: "1.1" })).toEqual(JSON.parse(JSON.stringify(x.report)));
    });
  });

  it("leaves out a harness's own value that is defined differently, and says so", () => {
    const run = structuredClone(loadRuns(["test/fixtures/runs/guidellm-sanity_concurrent"])[0]!);
    run.metrics.stages[0]!.latency.tpot_ms.provenance = { source: "native", native_field: "time_per_output_token_ms", note: "includes the first token" };
    const warnings: string[] = [];
    const [r] = toBenchmarkReports(run, (m) => warnings.push(m));
    const doc = r!.report as Any;
    expect(doc.results.request_performance.aggregate.latency.time_per_output_token).toBeUndefined();
    expect(doc.results.request_performance.aggregate.latency.time_to_first_token).toBeDefined();
    expect(warnings).toEqual(["stage 0: left out time_per_output_token (guidellm's own time_per_output_token_ms: includes the first token)"]);
    expect(doc.scenario.load.metadata.description).toContain("hub left out time_per_output_token");
    expect(validate(doc), errors()).toBe(true);
  });

  it("the schema catches what llm-d's Statistics model drops silently", () => {
    const doc = structuredClone(toBenchmarkReports(loadRuns([FIXTURE_RUNS[0]!])[0]!)[0]!.report) as Any;
    doc.results.request_performance.aggregate.latency.time_to_first_token.P25 = 1;
    expect(validate(doc)).toBe(false);
    const bad = structuredClone(toBenchmarkReports(loadRuns([FIXTURE_RUNS[0]!])[0]!)[0]!.report) as Any;
    bad.results.request_performance.aggregate.latency.time_to_first_token.units = "ms/token";
    expect(validate(bad)).toBe(false);
  });

  it("names its reports with RFC 4122 version-5 UUIDs", () => {
    // Python's uuid.uuid5(uuid.NAMESPACE_DNS, "www.example.com"), which llm-d's ids come from.
    expect(uuid5("6ba7b810-9dad-11d1-80b4-00c04fd430c8", "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });
});
