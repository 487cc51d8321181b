/**
 * The plugin's own tests, on Node's built-in runner: `node --test test.ts` (or `npm test`).
 * They translate a profile and convert the recorded fixtures; no harness or server is needed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { computeStage, Metrics, Profile, type ProfileInput } from "harness-hub";
import harness from "./index.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", harness.version);
const ctx = { target: "http://127.0.0.1:8000", model: "hub-sim", tokenizerDir: "/tokenizer", outputDir: "/runs/r1/native" };

const profile = (over: Partial<ProfileInput> = {}) =>
  Profile.parse({
    name: "t",
    load: { type: "concurrent", stages: [{ concurrency: 2, duration_s: 30 }] },
    data: { type: "random", input_tokens: { mean: 256 }, output_tokens: { mean: 128 } },
    ...over,
  });

test("the definition is complete", () => {
  assert.equal(harness.name, "__NAME__");
  assert.match(harness.version, /^\d/);
  assert.ok(harness.install.packages.length > 0);
  assert.ok(harness.converter.knownVersions.includes(harness.version));
});

test("translates a concurrent profile into one command that writes into the output folder", () => {
  const r = harness.translate(profile(), ctx);
  assert.equal(r.kind, "ok", r.kind === "unsupported" ? r.reason : "");
  if (r.kind !== "ok") return;
  assert.equal(r.invocations.length, 1);
  const argv = r.invocations[0]!.argv;
  assert.equal(argv[0], "__NAME__");
  assert.ok(argv.includes(ctx.target) && argv.includes(ctx.model) && argv.includes(ctx.tokenizerDir));
  assert.ok(argv.some((a) => a.startsWith(ctx.outputDir)), "writes its output into ctx.outputDir");
});

test("refuses what it cannot express, with a reason", () => {
  const r = harness.translate(profile({ load: { type: "constant", stages: [{ rate: 2, duration_s: 10 }] } }), ctx);
  assert.equal(r.kind, "unsupported");
  assert.ok(r.kind === "unsupported" && r.reason.length > 0);
});

test("converts the recorded fixture into valid metrics", async () => {
  const r = await harness.converter.convert(FIXTURES, {});
  assert.equal(r.kind, "ok", r.kind === "failed" ? r.reason : "");
  if (r.kind !== "ok") return;
  assert.equal(r.harnessVersion, harness.version);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.stages.length, 1);

  const stage = computeStage(r.stages[0]!);
  // The stage must fit hub's metrics schema (Metrics.shape.stages is the zod array of stages).
  Metrics.shape.stages.element.parse(stage);
  assert.deepEqual(stage.load, { type: "concurrent", concurrency: 2 });
  assert.equal(stage.requests.successful, 4);
  assert.equal(stage.requests.failed, 1);
  // The fixture's requests: 50 ms to the first token, then tokens 10 ms apart.
  const near = (v: number | null, want: number) => v !== null && Math.abs(v - want) < 0.5;
  assert.ok(near(stage.latency.ttft_ms.p50, 50), `TTFT p50 ${stage.latency.ttft_ms.p50}`);
  assert.ok(near(stage.latency.itl_ms.p50, 10), `ITL p50 ${stage.latency.itl_ms.p50}`);
  assert.equal(stage.latency.ttft_ms.provenance.source, "recomputed");
  assert.equal(stage.tokens.output_per_request.max, 8);
});

test("a broken output fails with the file and the field in the reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "__NAME__-"));
  writeFileSync(join(dir, "results.json"), JSON.stringify({ version: harness.version, concurrency: 2, requests: [{ start: "soon" }] }));
  const r = await harness.converter.convert(dir, {});
  assert.equal(r.kind, "failed");
  assert.match(r.kind === "failed" ? r.reason : "", /results\.json.*requests\[0\]\.start/);
  const missing = await harness.converter.convert(join(dir, "nowhere"), {});
  assert.equal(missing.kind, "failed");
});
