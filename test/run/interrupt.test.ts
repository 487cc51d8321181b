/**
 * Ctrl-C and SIGTERM at every phase of a run (target probe, install, harness, conversion): hub
 * stops promptly, run.json says "interrupted", and the CLI exits 130; a second Ctrl-C exits at
 * once with run.json already marked.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HarnessDefinition } from "../../src/harness/contract.ts";
import { runBenchmark } from "../../src/run/run.ts";
import type { Runtime } from "../../src/runtime/runtime.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { directRuntime, fakeHarness } from "../fixtures/harness/fake.ts";

const HUB = new URL("../../bin/hub.js", import.meta.url).pathname;
const SLOW_PLUGIN = new URL("../fixtures/harness/slow/", import.meta.url).pathname;
const out = () => join(mkdtempSync(join(tmpdir(), "hub-interrupt-")), "run");
const status = (dir: string) => JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).status as string;
const overrides = ["load.stages.0.duration_s=null", "load.stages.0.requests=2", "data.output_tokens.mean=4"];

/** Aborts after `ms`; returns the run's outcome and how long it took to stop after the abort. */
async function interruptAfter(ms: number, harness: HarnessDefinition, runtime: Runtime, target: string) {
  const dir = out();
  const abort = new AbortController();
  let abortedAt = 0;
  setTimeout(() => {
    abortedAt = performance.now();
    abort.abort();
  }, ms);
  const outcome = await runBenchmark({ harness, runtime, profile: "sanity_concurrent", overrides, target, out: dir, signal: abort.signal }, {});
  return { outcome, dir, stopMs: performance.now() - abortedAt };
}

let sim: Simulator;
let silent: Server;
let silentUrl = "";
const sockets: Socket[] = [];
beforeAll(async () => {
  sim = await startSimulator({ port: 0, ttftMs: 10, itlMs: 2 });
  // Accepts connections and never answers: a target probe that would wait for its timeout.
  silent = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  silent.close();
  await sim.close();
});

describe("interrupting a run at each phase", () => {
  it("during the target probe", async () => {
    const r = await interruptAfter(300, fakeHarness(), directRuntime, silentUrl);
    expect(r.outcome.kind).toBe("interrupted");
    expect(status(r.dir)).toBe("interrupted");
    expect(r.stopMs).toBeLessThan(2000);
  });

  it("during the install", async () => {
    const slowInstall: Runtime = {
      ...directRuntime,
      async prepare(harness, _onLine, signal) {
        // A pip install that honours the signal the way the local runtime's does.
        const r = await execa(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { reject: false, ...(signal ? { cancelSignal: signal } : {}) });
        return r.isCanceled ? { kind: "failed", reason: "install interrupted" } : { kind: "ok", version: harness.version };
      },
    };
    const r = await interruptAfter(500, fakeHarness(), slowInstall, sim.url);
    expect(r.outcome.kind).toBe("interrupted");
    expect(status(r.dir)).toBe("interrupted");
    expect(r.stopMs).toBeLessThan(3000);
  });

  it("during the harness run", async () => {
    const sleeper = fakeHarness({ argv: [process.execPath, "-e", "setTimeout(() => {}, 60000)"] });
    const r = await interruptAfter(500, sleeper, directRuntime, sim.url);
    expect(r.outcome.kind).toBe("interrupted");
    expect(status(r.dir)).toBe("interrupted");
    expect(r.stopMs).toBeLessThan(6000);
  });

  it("during the conversion", async () => {
    const base = fakeHarness();
    const slowConverter: HarnessDefinition = {
      ...base,
      converter: { ...base.converter, convert: () => new Promise((resolve) => setTimeout(() => resolve({ kind: "failed", reason: "too late" }), 60_000).unref()) },
    };
    const r = await interruptAfter(3000, slowConverter, directRuntime, sim.url);
    expect(r.outcome.kind).toBe("interrupted");
    expect(status(r.dir)).toBe("interrupted");
    expect(r.stopMs).toBeLessThan(1000);
  });
});

describe("signals through the CLI", () => {
  const start = (dir: string) =>
    execa("node", [HUB, "--plugin", SLOW_PLUGIN, "run", "--harness", "slow", "--profile", "sanity_concurrent", "-o", "data.output_tokens.mean=4", "--out", dir], { reject: false, timeout: 60_000 });
  const waitFor = async (dir: string) => {
    for (let i = 0; i < 200; i++) {
      try {
        if (JSON.parse(readFileSync(join(dir, "run.json"), "utf8")).commands.length > 0) return;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the harness never started");
  };

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} during the harness: exit 130, run.json interrupted`, async () => {
      const dir = out();
      const child = start(dir);
      await waitFor(dir);
      child.kill(signal);
      const r = await child;
      expect(r.exitCode, String(r.stderr)).toBe(130);
      expect(status(dir)).toBe("interrupted");
    }, 60_000);
  }

  it("a second Ctrl-C exits at once, with run.json already interrupted", async () => {
    const dir = out();
    const child = start(dir);
    await waitFor(dir);
    child.kill("SIGINT");
    // Apart enough to be two signals (two SIGINTs pending at once are delivered as one).
    await new Promise((r) => setTimeout(r, 200));
    child.kill("SIGINT");
    const r = await child;
    expect(r.exitCode, String(r.stderr)).toBe(130);
    expect(status(dir)).toBe("interrupted");
  }, 60_000);
});
