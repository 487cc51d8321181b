import { existsSync } from "node:fs";
import { join } from "node:path";
import type { HarnessDefinition, Invocation } from "../harness/contract.ts";
import { runProcess } from "./process.ts";
import { envFor, harnessEnv, installHarness } from "./python.ts";
import type { Runtime } from "./runtime.ts";

function executable(harness: HarnessDefinition, invocation: Invocation): string {
  const name = invocation.argv[0]!;
  const inEnv = join(envFor(harness).bin, name);
  return existsSync(inEnv) ? inEnv : name;
}

/** Runs the harness as a subprocess from its hub-managed Python venv. */
export const localRuntime: Runtime = {
  name: "local",
  async prepare(harness, onLine, signal) {
    const r = await installHarness(harness, { onLine, ...(signal ? { signal } : {}) });
    if (r.kind === "failed") return r;
    if (!r.alreadyInstalled) onLine(`installed ${harness.name} ${r.version} in ${r.env.dir}`);
    return { kind: "ok", version: r.version };
  },
  describe(harness, invocation) {
    return [executable(harness, invocation), ...invocation.argv.slice(1)];
  },
  exec(req) {
    const [file, ...args] = this.describe(req.harness, req.invocation);
    return runProcess(file!, args, {
      cwd: req.nativeDir,
      env: { ...harnessEnv(envFor(req.harness)), ...req.invocation.env },
      stdoutLog: req.stdoutLog,
      stderrLog: req.stderrLog,
      ...(req.onLine ? { onLine: req.onLine } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    });
  },
};
