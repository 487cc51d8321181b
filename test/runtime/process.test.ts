import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runProcess } from "../../src/runtime/process.ts";

const FAKE = fileURLToPath(new URL("../fixtures/bin/fake-harness.js", import.meta.url));

function dirs() {
  const cwd = mkdtempSync(join(tmpdir(), "hub-proc-"));
  return { cwd, stdoutLog: join(cwd, "stdout.log"), stderrLog: join(cwd, "stderr.log") };
}

/** Running, not merely a zombie waiting for a reaper that this sandbox may not have. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
};

describe("runProcess", () => {
  it("streams both outputs to logs and lines, and reports success", async () => {
    const d = dirs();
    const lines: string[] = [];
    const r = await runProcess(FAKE, ["ok"], { ...d, onLine: (s, l) => lines.push(`${s}:${l}`) });
    expect(r.kind).toBe("ok");
    expect(readFileSync(d.stdoutLog, "utf8")).toBe("progress 1/2\nprogress 2/2\n");
    expect(readFileSync(d.stderrLog, "utf8")).toBe("a warning\n");
    expect(lines).toContain("stderr:a warning");
    expect(existsSync(join(d.cwd, "result.json"))).toBe(true);
  });

  it("reports a non-zero exit with its code and keeps the output", async () => {
    const d = dirs();
    const r = await runProcess(FAKE, ["fail", "3"], d);
    expect(r).toMatchObject({ kind: "failed", exitCode: 3 });
    expect(readFileSync(d.stderrLog, "utf8")).toContain("boom");
  });

  it("reports a missing executable", async () => {
    const d = dirs();
    const r = await runProcess(join(d.cwd, "no-such-harness"), [], d);
    expect(r.kind).toBe("failed");
    if (r.kind === "failed") expect(r.reason).toContain("was not found");
  });

  it("passes the environment", async () => {
    const d = dirs();
    await runProcess(FAKE, ["env", "HUB_TEST_VALUE"], { ...d, env: { HUB_TEST_VALUE: "42" } });
    expect(readFileSync(d.stdoutLog, "utf8").trim()).toBe("42");
  });

  it("an abort stops the whole process group, grandchildren included", async () => {
    const d = dirs();
    const ac = new AbortController();
    let grandchild = 0;
    const run = runProcess(FAKE, ["hang"], {
      ...d,
      signal: ac.signal,
      graceMs: 200,
      onLine: (_s, l) => {
        const m = /grandchild (\d+)/.exec(l);
        if (m) {
          grandchild = Number(m[1]);
          ac.abort();
        }
      },
    });
    const r = await run;
    expect(r.kind).toBe("interrupted");
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it("a timeout stops the process and says so", async () => {
    const d = dirs();
    const r = await runProcess(FAKE, ["hang"], { ...d, timeoutMs: 300, graceMs: 200 });
    expect(r.kind).toBe("timed_out");
    expect(r.durationMs).toBeLessThan(5000);
  });
});
