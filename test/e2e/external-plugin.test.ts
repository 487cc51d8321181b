/**
 * The plugin loading path, end to end: harnesses/genai-bench is copied out of the package into a
 * temporary folder, laid out the way `hub harness new` lays out a plugin (package.json, and
 * node_modules/harness-hub linked to this hub), renamed so it cannot be mistaken for the built-in
 * one, and loaded with --plugin. The copy then runs the shipped sanity_concurrent profile (as chat:
 * genai-bench sends nothing else) on hub's built-in simulator, and its metrics are checked against
 * the simulator's trace with the same tolerances as the built-in harnesses.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import genaiBench from "../../harnesses/genai-bench/index.ts";
import { HUB_ROOT } from "../../src/cli/commands/harness-new.ts";
import { envFor, installHarness } from "../../src/runtime/python.ts";
import type { TraceRecord } from "../../src/sim/index.ts";
import { groundTruth, HUB, readValidMetrics, within } from "./helpers.ts";

const NAME = "genai-bench-external";
const SOURCE = join(HUB_ROOT, "harnesses", "genai-bench");

describe("an external plugin, loaded by path with --plugin", () => {
  let root: string;
  let hubHome: string;
  const hub = (args: string[], timeoutMs = 600_000) =>
    execa(process.execPath, [HUB, ...args], { cwd: root, reject: false, timeout: timeoutMs, env: { NO_COLOR: "1", HUB_HOME: hubHome } });

  beforeAll(async () => {
    // The real environment, installed once; the plugin's name gets its own env dir, linked to it.
    const installed = await installHarness(genaiBench);
    if (installed.kind === "failed") throw new Error(installed.reason);

    root = realpathSync(mkdtempSync(join(tmpdir(), "hub-external-plugin-")));
    const plugin = join(root, NAME);
    mkdirSync(plugin);
    for (const f of ["index.ts", "converter.ts"]) cpSync(join(SOURCE, f), join(plugin, f));
    const index = readFileSync(join(plugin, "index.ts"), "utf8");
    expect(index.match(/name: "genai-bench",/g)).toHaveLength(1);
    writeFileSync(join(plugin, "index.ts"), index.replace('name: "genai-bench",', `name: "${NAME}",`));
    writeFileSync(join(plugin, "package.json"), `${JSON.stringify({ name: `hub-harness-${NAME}`, type: "module", private: true, exports: { ".": "./index.ts" } }, null, 2)}\n`);
    mkdirSync(join(plugin, "node_modules"));
    symlinkSync(HUB_ROOT, join(plugin, "node_modules", "harness-hub"), "dir");

    hubHome = join(root, "hub-home");
    mkdirSync(join(hubHome, "envs"), { recursive: true });
    symlinkSync(envFor(genaiBench).dir, join(hubHome, "envs", `${NAME}-${genaiBench.version}`), "dir");
  });

  it("is listed next to the built-ins, and nothing in the package is touched", async () => {
    expect(root.startsWith(realpathSync(HUB_ROOT))).toBe(false);
    const r = await hub(["--plugin", `./${NAME}`, "harnesses", "list", "--names"], 60_000);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toContain(NAME);
    expect(r.stdout.split("\n")).toContain("guidellm");
  }, 400_000);

  it(`hub run --harness ${NAME} --profile sanity_concurrent -o api.type=chat runs end to end on the built-in simulator`, async () => {
    const out = join(root, "run");
    const r = await hub(["--plugin", `./${NAME}`, "run", "--harness", NAME, "--profile", "sanity_concurrent", "-o", "api.type=chat", "--out", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("built-in simulator");
    expect(r.stderr).not.toMatch(/plugin .* not loaded/);
    // 30 s is not a whole number of minutes, genai-bench's unit: the run takes one, and says so.
    expect(r.stderr).toMatch(/30 s runs as 1 min/);

    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: NAME, version: "0.0.5" }, profile: "sanity_concurrent", exit_code: 0 });
    const s = m.stages[0]!;
    expect(s.load).toEqual({ type: "concurrent", concurrency: 2 });

    const trace = readFileSync(join(out, "sim-trace.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as TraceRecord);
    const truth = groundTruth(trace);
    expect(within(truth.ttftP50, 50, 0.1), `simulator TTFT p50 ${truth.ttftP50}`).toBe(true);
    // genai-bench's own client delay puts its TTFT 5 to 15 ms over the simulator's at concurrency 2
    // (test/e2e/genai-bench.test.ts); ITL and TPOT meet the 10% bar.
    expect(s.latency.ttft_ms.p50).toBeGreaterThanOrEqual(truth.ttftP50);
    expect(within(s.latency.ttft_ms.p50, 50, 0.3), `TTFT p50 ${s.latency.ttft_ms.p50} (simulator ${truth.ttftP50})`).toBe(true);
    expect(within(s.latency.itl_ms.p50, 10, 0.1), `ITL p50 ${s.latency.itl_ms.p50}`).toBe(true);
    expect(within(s.latency.tpot_ms.p50, 10, 0.1), `TPOT p50 ${s.latency.tpot_ms.p50}`).toBe(true);
    // About a minute of 2 streams of ~1.33 s requests.
    expect(s.requests.successful).toBeGreaterThan(60);
    expect(s.requests.successful).toBe(truth.ok);
    expect(s.tokens.output_per_request).toMatchObject({ min: 128, max: 128 });

    const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
    expect(run.harness).toEqual({ name: NAME, pinned_version: "0.0.5", installed_version: "0.0.5" });
    expect(existsSync(join(out, "native", "genai-bench", "experiment_metadata.json"))).toBe(true);
  }, 400_000);
});
