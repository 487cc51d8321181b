/**
 * Converter speed and memory against the floor of parsing the same output, side by side.
 *
 *   node bench/convert.ts [--requests 100000] [--runs 3] [--harness vllm-benchmark,guidellm,inference-perf,aiperf]
 *
 * For each harness, a large output is generated from a recorded fixture (every per-request array
 * of its JSON files, and every line of its JSONL files, repeated until it holds --requests
 * requests: generated data for a benchmark, built from real output). Then, each in a fresh child
 * process, interleaved over --runs rounds: the floor (read every output file and JSON.parse it, or
 * parse every line of a JSONL file) and hub (the harness's converter plus computeStage for every
 * stage). Reports median wall time and peak RSS of each, and hub's ratios to the floor
 * (targets: time within 2×, memory within 1.5×).
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { percentile } from "../src/metrics/stats.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    harness: { type: "string", default: "vllm-benchmark,guidellm,inference-perf,aiperf" },
    child: { type: "string" },
    dir: { type: "string" },
  },
});

const FIXTURES: Record<string, string> = {
  "vllm-benchmark": "test/fixtures/vllm-benchmark/0.33.0/sanity_concurrent/native",
  guidellm: "test/fixtures/guidellm/0.8.1/sanity_concurrent",
  "inference-perf": "test/fixtures/inference-perf/0.7.0/sanity_random/native",
  aiperf: "test/fixtures/aiperf/0.13.0/sanity_concurrent/native",
};
const ROOT = new URL("../", import.meta.url).pathname;

/** Output files a converter reads: JSON documents and JSONL files (the trace is the simulator's). */
const outputFiles = (dir: string) =>
  readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile() && /\.(json|jsonl)$/.test(f) && !f.endsWith("sim-trace.jsonl"));

async function child(mode: string, dir: string): Promise<void> {
  const started = performance.now();
  if (mode === "floor") {
    for (const f of outputFiles(dir)) {
      const text = readFileSync(f, "utf8");
      if (f.endsWith(".jsonl")) for (const line of text.split("\n")) line && JSON.parse(line);
      else JSON.parse(text);
    }
  } else {
    const { getHarness } = await import("../src/harness/registry.ts");
    const { computeStage } = await import("../src/metrics/compute.ts");
    const r = await getHarness(mode).converter.convert(dir, {});
    if (r.kind !== "ok") throw new Error(r.reason);
    let n = 0;
    for (const s of r.stages) n += computeStage(s).requests.total;
    if (n === 0) throw new Error("no requests converted");
  }
  process.stdout.write(JSON.stringify({ ms: performance.now() - started, rssMiB: process.resourceUsage().maxRSS / 1024 }));
}

/** Repeats every per-request array (length ≥ 8) and every JSONL line until `requests` are reached. */
function generate(harness: string, requests: number): { dir: string; factor: number } {
  const dir = join(mkdtempSync(join(tmpdir(), `hub-bench-${harness}-`)), "native");
  cpSync(join(ROOT, FIXTURES[harness]!), dir, { recursive: true });
  let factor = 1;
  for (const f of outputFiles(dir)) {
    const text = readFileSync(f, "utf8");
    if (f.endsWith(".jsonl")) {
      const lines = text.split("\n").filter(Boolean);
      factor = Math.ceil(requests / lines.length);
      writeFileSync(f, `${Array.from({ length: factor }, () => lines.join("\n")).join("\n")}\n`);
      continue;
    }
    const doc = JSON.parse(text.replace(/\bNaN\b/g, "null").replace(/-?\bInfinity\b/g, "null"));
    const grow = (node: unknown): void => {
      if (Array.isArray(node)) {
        if (node.length >= 8 && node.length < requests) {
          const k = Math.ceil(requests / node.length);
          factor = Math.max(factor, k);
          const copy = node.slice();
          for (let i = 1; i < k; i++) for (const x of copy) node.push(structuredClone(x));
        } else node.forEach(grow); // a short list (stages, benchmarks): look inside
        return;
      }
      if (node && typeof node === "object") for (const v of Object.values(node)) grow(v);
    };
    grow(doc);
    writeFileSync(f, JSON.stringify(doc));
  }
  return { dir, factor };
}

if (values.child) {
  await child(values.child, values.dir!);
} else {
  const runs = Number(values.runs);
  const requests = Number(values.requests);
  console.log(`converters vs the parse floor: ~${requests} requests, ${runs} interleaved runs, Node ${process.version}, load average ${loadavg()[0]!.toFixed(2)}`);
  console.log("| harness | output MB | floor ms | hub ms | time ratio | floor MiB | hub MiB | memory ratio |\n|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const harness of values.harness!.split(",")) {
    const { dir } = generate(harness, requests);
    const mb = outputFiles(dir).reduce((a, f) => a + statSync(f).size, 0) / 1e6;
    const m: Record<string, { ms: number; rssMiB: number }[]> = { floor: [], hub: [] };
    for (let i = 0; i < runs; i++) {
      for (const mode of ["floor", harness]) {
        const out = execFileSync(process.execPath, ["--max-old-space-size=8192", new URL(import.meta.url).pathname, "--child", mode, "--dir", dir], { encoding: "utf8", maxBuffer: 1 << 20 });
        m[mode === "floor" ? "floor" : "hub"]!.push(JSON.parse(out));
      }
    }
    const med = (k: string, f: "ms" | "rssMiB") => percentile(m[k]!.map((x) => x[f]), 0.5);
    const [fm, hm, fr, hr] = [med("floor", "ms"), med("hub", "ms"), med("floor", "rssMiB"), med("hub", "rssMiB")];
    console.log(`| ${harness} | ${mb.toFixed(1)} | ${fm.toFixed(0)} | ${hm.toFixed(0)} | ${(hm / fm).toFixed(2)}× | ${fr.toFixed(0)} | ${hr.toFixed(0)} | ${(hr / fr).toFixed(2)}× |`);
    rmSync(join(dir, ".."), { recursive: true, force: true });
  }
}
