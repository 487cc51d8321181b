// `hub sim` as a process: banner, serving, clean stop on SIGTERM with the trace flushed, errors.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { post } from "../../src/sim/client.ts";
import { startSimulator } from "../../src/sim/index.ts";

const root = resolve(import.meta.dirname, "../..");
const tmp = mkdtempSync(join(tmpdir(), "hub-sim-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The sim command alone, as main.ts wires it (UserError → message on stderr, exit 2).
const SCRIPT = `
import { Command } from "commander";
import { registerSimCommand } from "./src/cli/commands/sim.ts";
import { isUserError } from "./src/errors.ts";
const program = new Command("hub").exitOverride();
registerSimCommand(program);
try { await program.parseAsync(process.argv.slice(1), { from: "user" }); }
catch (e) { if (!isUserError(e)) throw e; process.stderr.write("hub: error: " + e.message + "\\n"); process.exitCode = 2; }
`;

function runSim(args: string[]) {
  const child = spawn(process.execPath, ["--input-type=module", "-e", SCRIPT, "sim", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d));
  child.stderr.on("data", (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.once("exit", (code) => res(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  void exited.then(() => clearTimeout(killer));
  const banner = async (): Promise<string> => {
    const until = performance.now() + 15_000;
    while (!stdout.includes("\n") && performance.now() < until && child.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    return stdout;
  };
  return { child, exited, banner, output: () => ({ stdout, stderr }) };
}

describe("hub sim CLI", () => {
  it("serves, prints one banner line, stops on SIGTERM and flushes the trace", async () => {
    const trace = join(tmp, "cli-trace.jsonl");
    const sim = runSim(["--port", "0", "--model", "cli-model", "--ttft-ms", "5", "--itl-ms", "2", "--trace", trace]);
    const line = await sim.banner();
    const m = /^hub sim: serving cli-model at (http:\/\/127\.0\.0\.1:\d+) \(ttft 5 ms, itl 2 ms\)\n$/.exec(line);
    expect(m, line + sim.output().stderr).not.toBeNull();
    const r = await post(m![1]!, "/v1/completions", { model: "cli-model", prompt: "hi", max_tokens: 3, stream: true }, { timeoutMs: 10_000 });
    expect(r.eventTimes).toHaveLength(3);
    sim.child.kill("SIGTERM");
    expect(await sim.exited).toBe(0);
    expect(sim.output().stderr).toContain("hub sim: stopped after 1 request");
    const records = readFileSync(trace, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ status: "ok", completion_tokens: 3 });
  });

  it("a bad flag value exits 2 naming the flag", async () => {
    const sim = runSim(["--failure-rate", "1.5"]);
    expect(await sim.exited).toBe(2);
    expect(sim.output().stderr).toContain("--failure-rate must be a number from 0 to 1, got 1.5");
  });

  it("a port in use exits 2 with 'port P is in use'", async () => {
    const busy = await startSimulator({ ttftMs: 1, itlMs: 1 });
    try {
      const sim = runSim(["--port", String(busy.port)]);
      expect(await sim.exited).toBe(2);
      expect(sim.output().stderr).toContain(`port ${busy.port} is in use`);
    } finally {
      await busy.close();
    }
  });
});
