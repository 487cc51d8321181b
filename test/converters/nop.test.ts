import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { nopConverter, type NopConvertResult } from "../../converters/nop.ts";
import { parseVllmLog, readLog } from "../../converters/vllm-log.ts";
import { METRICS_SCHEMA_VERSION, Metrics, type Startup } from "../../src/metrics/schema.ts";

/** Real vLLM 0.32.0 (CPU build) logs and a real nop probe; see README.md there. */
const FIXTURES = join(import.meta.dirname, "../fixtures/nop/vllm-0.32.0");
const COLD = join(FIXTURES, "cpu-cold-start");
const SCHEMA = join(import.meta.dirname, "../../schemas/metrics.schema.json");

async function convertOk(path: string): Promise<NopConvertResult & { kind: "ok" }> {
  const r = (await nopConverter.convert(path, {})) as NopConvertResult;
  if (r.kind !== "ok") throw new Error(r.reason);
  return r;
}

/** vLLM's "MM-DD hh:mm:ss" of a line, in seconds, read independently of the parser. */
function stampOf(text: string): number {
  const m = / (\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \[/.exec(text);
  if (!m) throw new Error(`no timestamp in ${text}`);
  const [, mo, d, h, mi, s] = m.map(Number) as number[];
  return Date.UTC(2000, mo! - 1, d, h, mi, s) / 1000;
}

const phase = (s: Startup, name: string) => s.phases.find((p) => p.name === name)!;

describe("nop converter on a real vLLM 0.32.0 cold start (CPU)", () => {
  it("has no stages and a start-up section that validates", async () => {
    const r = await convertOk(COLD);
    expect(r.stages).toEqual([]);
    expect(r.warnings).toEqual([]);
    const metrics = Metrics.parse({
      schema_version: METRICS_SCHEMA_VERSION,
      run: { id: "t", harness: { name: "nop", version: r.harnessVersion }, profile: "none", target: null, model: null, runtime: null, started_at: null, ended_at: null, exit_code: null },
      stages: [],
      startup: r.startup,
    });
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")));
    expect(validate(JSON.parse(JSON.stringify(metrics))), ajv.errorsText(validate.errors)).toBe(true);
  });

  it("reads the server, the probe's readiness times and the log's span", async () => {
    const s = (await convertOk(COLD)).startup!;
    expect(s.server).toEqual({ engine: "vllm", version: "0.32.0", model: "/tmp/nopv/tiny-qwen3" });
    expect(s.log).toMatchObject({ lines: 294, first_timestamp: "11-23 19:49:22" });
    expect(s.ready).toEqual({ health_s: expect.closeTo(316.742, 3), models_s: expect.closeTo(316.743, 3), already_up: false });
    // First vLLM line 19:49:22 to the route list at 19:52:58.
    expect(s.total_s).toBe(216);
    expect(s.notes.join("\n")).toMatch(/last timestamped line before 'Application startup complete'/);
  });

  it("gives each phase found its start offset and a duration equal to its lines' own timestamps", async () => {
    const s = (await convertOk(COLD)).startup!;
    // vLLM's banner lines end in a carriage return, which the parser drops.
    const log = readFileSync(join(COLD, "server.log"), "utf8").split("\n").map((l) => l.replace(/\r$/, ""));
    const t0 = stampOf(log.find((l) => /^\(APIServer pid=\d+\) \w+ \d\d-\d\d/.test(l))!);
    const found = s.phases.filter((p) => p.found);
    expect(found.map((p) => p.name)).toEqual(["model_info", "worker_init", "model_loading", "torch_compile", "api_server_start"]);
    for (const p of found) {
      const [start, end] = p.source;
      expect(log[start!.line - 1]).toBe(start!.text);
      expect(log[end!.line - 1]).toBe(end!.text);
      expect(p.duration_s, p.name).toBe(stampOf(end!.text) - stampOf(start!.text));
      expect(p.start_offset_s, p.name).toBe(stampOf(start!.text) - t0);
    }
    expect(phase(s, "model_info")).toMatchObject({ start_offset_s: 0, duration_s: 52 });
    expect(phase(s, "worker_init")).toMatchObject({ start_offset_s: 113, duration_s: 34 });
    expect(phase(s, "torch_compile")).toMatchObject({ start_offset_s: 151, duration_s: 47 });
    expect(phase(s, "torch_compile").source[1]!.text).toMatch(/saved AOT compiled function/);
  });

  it("takes the figure the log states for model loading; a CPU build logs only 'Loading weights took'", async () => {
    const s = (await convertOk(COLD)).startup!;
    const loading = phase(s, "model_loading");
    expect(loading).toMatchObject({ found: true, duration_s: 0, reported_s: 0.03 });
    expect(loading.note).toMatch(/no line matching \/Model loading took\//);
    expect(s.model_loading).toBeNull();
  });

  it("reports phases the log lacks as missing, with null numbers, never 0", async () => {
    const s = (await convertOk(COLD)).startup!;
    for (const name of ["platform_detection", "imports", "cuda_graph_capture"]) {
      const p = phase(s, name);
      expect(p, name).toMatchObject({ found: false, start_offset_s: null, duration_s: null, reported_s: null });
      expect(p.note).toMatch(/^missing: /);
    }
    expect(s.notes.join("\n")).toMatch(/phases missing from the log: platform_detection, imports, cuda_graph_capture/);
    expect(s.sleep_wake).toEqual([]);
  });

  it("converts the log file alone, without a probe", async () => {
    const r = await convertOk(join(COLD, "server.log"));
    expect(r.startup!.ready).toBeNull();
    expect(r.startup!.phases.filter((p) => p.found)).toHaveLength(5);
  });

  it("converts a probe alone, saying the phases are unknown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-nop-"));
    copyFileSync(join(COLD, "probe.json"), join(dir, "probe.json"));
    const r = await convertOk(dir);
    expect(r.startup!.log).toBeNull();
    expect(r.startup!.phases).toEqual([]);
    expect(r.startup!.server.version).toBe("0.32.0");
    expect(r.warnings.join("\n")).toMatch(/no server log/);
  });

  it("skips what is not a vLLM log line: the real log of a failed `vllm serve` parses to nothing found", async () => {
    const r = await convertOk(join(FIXTURES, "serve-cli-failed", "server.log"));
    const s = r.startup!;
    expect(s.phases.every((p) => !p.found && p.duration_s === null)).toBe(true);
    expect(s.total_s).toBeNull();
    expect(s.server.engine).toBeNull();
    expect(s.notes.join("\n")).toMatch(/no line of this log is a vLLM log line/);
  });

  it("fails, naming the file, on a broken probe and on a folder with neither file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hub-nop-"));
    const empty = await nopConverter.convert(dir, {});
    expect(empty).toMatchObject({ kind: "failed", reason: expect.stringMatching(/neither probe\.json .* nor server\.log/) });
    writeFileSync(join(dir, "probe.json"), JSON.stringify({ probe: "hub nop", already_up: true, endpoints: { health: { attempts: 1 }, models: { answered_s: 0.1, attempts: 1 } } }));
    const broken = await nopConverter.convert(dir, {});
    expect(broken).toMatchObject({ kind: "failed", reason: expect.stringMatching(/probe\.json: field "endpoints\.health\.answered_s" missing/) });
  });
});

describe("nop converter on a real vLLM 0.32.0 warm start (CPU), probed once it was up", () => {
  it("says the readiness times are not a start-up, and reads the faster cached phases", async () => {
    const s = (await convertOk(join(FIXTURES, "cpu-warm-start"))).startup!;
    expect(s.ready).toMatchObject({ already_up: true });
    expect(s.ready!.health_s).toBeLessThan(1);
    expect(s.notes.join("\n")).toMatch(/already up at nop's first probe/);
    // Model info came from vLLM's cache: 0 s instead of 52 s cold.
    expect(phase(s, "model_info")).toMatchObject({ found: true, duration_s: 0 });
    expect(phase(s, "worker_init")).toMatchObject({ found: true, start_offset_s: 27, duration_s: 16 });
    expect(s.total_s).toBe(115);
  });
});

describe("vLLM log reading", () => {
  it("uses RFC 3339 prefixes (docker/kubectl --timestamps) as the clock when the log has them", () => {
    const lines = readFileSync(join(COLD, "server.log"), "utf8").split("\n").slice(5, 20);
    // The same real lines, as `docker logs --timestamps` would print them.
    const stamped = lines.map((l, i) => `2026-11-23T19:49:${String(22 + i).padStart(2, "0")}.123456789Z ${l}`).join("\n");
    const { lines: read, clock } = readLog(stamped);
    expect(clock).toBe("iso");
    expect(read[1]!.t! - read[0]!.t!).toBeCloseTo(1, 6);
    expect(read[0]!.level).toBe("INFO");
    const parsed = parseVllmLog(stamped, null);
    expect(parsed.log!.first_timestamp).toBe("2026-11-23T19:49:22.123456789Z");
  });

  it("strips ANSI colours and keeps the process name", () => {
    const { lines } = readLog("\x1b[32m(EngineCore pid=7) INFO\x1b[0m 11-23 19:51:15 [v1/engine/core.py:133] hello");
    expect(lines[0]).toMatchObject({ process: "EngineCore", level: "INFO", message: "hello", stamp: "11-23 19:51:15" });
  });

  it("carries a log across the turn of a year", () => {
    const { lines } = readLog("INFO 12-31 23:59:59 [a.py:1] x\nINFO 01-01 00:00:01 [a.py:1] y");
    expect(lines[1]!.t! - lines[0]!.t!).toBe(2);
  });

  it("reads sleep/wake and 'Model loading took' figures in vLLM 0.32's wording (its format strings)", () => {
    // Lines formatted from vLLM 0.32.0's own format strings (gpu_worker.py, executor/abstract.py,
    // gpu_model_runner.py): a CPU build never prints them, so no real log here has them.
    const log = [
      "(Worker pid=1) INFO 11-23 10:00:00 [v1/worker/gpu_model_runner.py:4100] Starting to load model m...",
      "(Worker pid=1) INFO 11-23 10:00:07 [v1/worker/gpu_model_runner.py:5150] Model loading took 15.2 GiB memory and 6.512345 seconds",
      "(Worker pid=1) INFO 11-23 10:05:00 [v1/worker/gpu_worker.py:327] Sleep mode freed 60.12 GiB memory, 2.50 GiB memory is still in use.",
      "(EngineCore pid=2) INFO 11-23 10:05:00 [v1/executor/abstract.py:391] It took 1.234567 seconds to fall asleep.",
      "(EngineCore pid=2) INFO 11-23 10:06:00 [v1/executor/abstract.py:409] It took 0.987654 seconds to wake up tags ['weights'].",
    ].join("\n");
    const s = parseVllmLog(log, null);
    expect(s.model_loading).toEqual({ gib: 15.2, seconds: 6.512345, source: { line: 2, text: expect.stringContaining("Model loading took") } });
    expect(s.phases.find((p) => p.name === "model_loading")).toMatchObject({ found: true, duration_s: 7, reported_s: 6.512345 });
    expect(s.sleep_wake).toEqual([
      { type: "sleep", seconds: 1.234567, offset_s: 300, freed_gib: 60.12, in_use_gib: 2.5, source: { line: 4, text: expect.any(String) } },
      { type: "wake", seconds: 0.987654, offset_s: 360, freed_gib: null, in_use_gib: null, source: { line: 5, text: expect.any(String) } },
    ]);
  });
});
