/**
 * Corrupted harness outputs, generated from the recorded real fixtures (numbers replaced by
 * negative, huge, fractional, infinite or wrong-typed values; times swapped; files truncated).
 * Every converter must answer each with a failed conversion naming why, or metrics whose every
 * number is possible: never a crash, a negative latency or an infinite throughput.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allHarnesses } from "../../src/harness/registry.ts";
import { assembleMetrics, InvalidOutputError } from "../../src/metrics/assemble.ts";
import type { Metrics } from "../../src/metrics/schema.ts";
import { mulberry32, type Rng } from "../../src/sim/rng.ts";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), "hub-corrupt-"));

/** Each recorded output a converter reads: its native/ folder (or the fixture folder itself). */
function recordedOutputs(): { harness: string; dir: string }[] {
  const out: { harness: string; dir: string }[] = [];
  for (const h of allHarnesses()) {
    let versions: string[];
    try {
      versions = readdirSync(join(FIXTURES, h.name));
    } catch {
      continue;
    }
    for (const v of versions) {
      for (const f of readdirSync(join(FIXTURES, h.name, v))) {
        const p = join(FIXTURES, h.name, v, f);
        if (!statSync(p).isDirectory()) continue;
        const native = join(p, "native");
        out.push({ harness: h.name, dir: statSync(native, { throwIfNoEntry: false })?.isDirectory() ? native : p });
      }
    }
  }
  return out;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && /\.(json|jsonl|csv|log)$/.test(f));
}

const BAD_NUMBERS = ["-1", "-0.25", "-1e3", "1e308", "-1e308", "1e18", "2.5", "Infinity", "-Infinity", "NaN", "null", '"12"', "[]", "{}"];

/** Replaces some numbers in the text (as text, so Infinity and NaN appear as Python writes them), swaps others. */
function corruptText(text: string, rng: Rng): string {
  const numbers = [...text.matchAll(/(?<=[:\[,\s])-?\d+(\.\d+)?([eE][-+]?\d+)?(?=[,\]}\s])/g)];
  if (numbers.length === 0 || rng() < 0.08) return text.slice(0, Math.floor(rng() * text.length)); // truncated
  const edits = new Map<number, { end: number; value: string }>();
  const n = 1 + Math.floor(rng() * Math.min(6, numbers.length));
  for (let i = 0; i < n; i++) {
    const m = numbers[Math.floor(rng() * numbers.length)]!;
    if (rng() < 0.3) {
      // Swap with another number: start after end, first token after last.
      const other = numbers[Math.floor(rng() * numbers.length)]!;
      edits.set(m.index!, { end: m.index! + m[0].length, value: other[0] });
      edits.set(other.index!, { end: other.index! + other[0].length, value: m[0] });
    } else edits.set(m.index!, { end: m.index! + m[0].length, value: BAD_NUMBERS[Math.floor(rng() * BAD_NUMBERS.length)]! });
  }
  let out = "";
  let at = 0;
  for (const [start, e] of [...edits].sort((a, b) => a[0] - b[0])) {
    if (start < at) continue;
    out += text.slice(at, start) + e.value;
    at = e.end;
  }
  return out + text.slice(at);
}

/** Every number metrics.json holds must be one a run can have. */
function impossibleValues(m: Metrics): string[] {
  const bad: string[] = [];
  for (const s of m.stages) {
    const where = `stage ${s.index}`;
    if (!(Number.isFinite(s.duration_s) && s.duration_s >= 0)) bad.push(`${where} duration_s ${s.duration_s}`);
    for (const [k, v] of Object.entries(s.throughput)) if (v !== null && !(Number.isFinite(v) && v >= 0)) bad.push(`${where} ${k} ${v}`);
    for (const [k, d] of [...Object.entries(s.latency), ...Object.entries(s.tokens)]) {
      for (const stat of ["mean", "min", "max", "p50", "p90", "p99"] as const) {
        const v = d[stat];
        if (v !== null && !(Number.isFinite(v) && v >= 0)) bad.push(`${where} ${k}.${stat} ${v}`);
      }
    }
    const { total, successful, failed, incomplete } = s.requests;
    if (successful + failed + incomplete !== total) bad.push(`${where} request counts do not add up`);
  }
  return bad;
}

describe("corrupted harness outputs", () => {
  it("500 corruptions of the recorded fixtures: each a named failure or sound metrics, never a crash", async () => {
    const rng = mulberry32(1204);
    const outputs = recordedOutputs();
    expect(outputs.length).toBeGreaterThan(20);
    const counts = { refused: 0, invalid: 0, converted: 0, recordsDropped: 0 };
    const crashes: string[] = [];
    for (let i = 0; i < 500; i++) {
      const { harness: name, dir } = outputs[i % outputs.length]!;
      const harness = allHarnesses().find((h) => h.name === name)!;
      const copy = join(tmp, `case-${i}`);
      cpSync(dir, copy, { recursive: true });
      const files = filesUnder(copy);
      const victims = 1 + Math.floor(rng() * Math.min(2, files.length));
      for (let v = 0; v < victims; v++) {
        const f = files[Math.floor(rng() * files.length)]!;
        writeFileSync(f, corruptText(readFileSync(f, "utf8"), rng));
      }
      const what = `case ${i} (${name}, ${dir.slice(FIXTURES.length)})`;
      let result;
      try {
        result = await harness.converter.convert(copy, {});
      } catch (e) {
        crashes.push(`${what}: convert threw ${String(e).slice(0, 200)}`);
        continue;
      }
      if (result.kind === "failed") {
        expect(result.reason.length, what).toBeGreaterThan(0);
        counts.refused++;
        continue;
      }
      try {
        const { metrics, warnings } = assembleMetrics({ id: "x", harness: { name, version: null }, profile: "p", target: null, model: null, runtime: null, started_at: null, ended_at: null, exit_code: null }, result.stages, result.startup);
        const bad = impossibleValues(metrics);
        if (bad.length > 0) crashes.push(`${what}: impossible values accepted: ${bad.slice(0, 3).join("; ")}`);
        if (warnings.length > 0) counts.recordsDropped++;
        counts.converted++;
      } catch (e) {
        if (e instanceof InvalidOutputError) counts.invalid++;
        else crashes.push(`${what}: assembling threw ${String(e).slice(0, 200)}`);
      }
    }
    console.log(
      `corrupted-output corpus: 500 cases over ${outputs.length} recorded outputs: ${counts.refused} refused by the converter, ${counts.invalid} refused as impossible, ` +
        `${counts.converted} converted (${counts.recordsDropped} with impossible records dropped and warned), ${crashes.length} crashes or impossible values`,
    );
    expect(crashes).toEqual([]);
  }, 120_000);
});
