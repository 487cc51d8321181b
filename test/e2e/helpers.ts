import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { execa } from "execa";
import type { Metrics } from "../../src/metrics/schema.ts";
import { percentile } from "../../src/metrics/stats.ts";
import type { TraceRecord } from "../../src/sim/index.ts";

export const HUB = fileURLToPath(new URL("../../bin/hub.js", import.meta.url));
const SCHEMA = fileURLToPath(new URL("../../schemas/metrics.schema.json", import.meta.url));

export const hub = (args: string[], timeoutMs = 600_000) =>
  execa(process.execPath, [HUB, ...args], { reject: false, timeout: timeoutMs, env: { NO_COLOR: "1" } });

export const tempOut = (name: string) => join(mkdtempSync(join(tmpdir(), `hub-e2e-${name}-`)), "run");

/** Reads metrics.json and validates it against the committed JSON Schema (not the zod source). */
export function readValidMetrics(dir: string): Metrics {
  const data = JSON.parse(readFileSync(join(dir, "metrics.json"), "utf8"));
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA, "utf8")));
  if (!validate(data)) throw new Error(`metrics.json does not validate: ${ajv.errorsText(validate.errors)}`);
  return data as Metrics;
}

/** The simulator's own view of what it served: TTFT and token gaps, in ms. */
export function groundTruth(trace: readonly TraceRecord[]) {
  const ok = trace.filter((t) => t.status === "ok");
  const ttft = ok.map((t) => (t.first_token_s! - t.received_s) * 1000);
  const itl = ok.flatMap((t) => t.token_times_s.slice(1).map((x, i) => (x - t.token_times_s[i]!) * 1000));
  return { ok: ok.length, ttftP50: percentile(ttft, 0.5), itlP50: percentile(itl, 0.5), completionTokens: ok.map((t) => t.completion_tokens) };
}

export const within = (actual: number | null | undefined, expected: number, fraction: number) =>
  actual !== null && actual !== undefined && Math.abs(actual - expected) <= expected * fraction;
