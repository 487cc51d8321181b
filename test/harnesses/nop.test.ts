import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import harness from "../../harnesses/nop/index.ts";
import type { TranslateContext } from "../../src/harness/contract.ts";
import { builtinProfileNames, loadProfile } from "../../src/profile/load.ts";
import { installHarness, installSource, isInstalled } from "../../src/runtime/python.ts";
import { HUB_VERSION } from "../../src/version.ts";

const ctx: TranslateContext = { target: "http://127.0.0.1:8000", model: "m", tokenizerDir: "/tok", outputDir: "/run/native" };

describe("nop adapter", () => {
  it("ships with hub: no packages, no environment, hub's version, no load capability", async () => {
    expect(harness.version).toBe(HUB_VERSION);
    expect(installSource(harness)).toBe("none");
    expect(isInstalled(harness)).toBe(true);
    expect(await installHarness(harness)).toMatchObject({ kind: "ok", version: HUB_VERSION, alreadyInstalled: true });
    expect(await installHarness(harness, { from: "/x" })).toMatchObject({ kind: "failed" });
    expect(harness.capabilities).toEqual([]);
  });

  it("runs its probe script, written into the output folder, against the target for any profile", () => {
    for (const name of builtinProfileNames()) {
      const r = harness.translate(loadProfile(name).profile, ctx);
      if (r.kind !== "ok") throw new Error(r.reason);
      expect(r.invocations).toHaveLength(1);
      const inv = r.invocations[0]!;
      expect(inv.argv).toEqual(["python3", "hub_nop_probe.py", "--target", "http://127.0.0.1:8000", "--timeout", "600", "--out", "probe.json"]);
      expect(inv.files!["hub_nop_probe.py"]).toContain("GET /health");
      expect(r.warnings).toEqual([`nop sends no load: profile ${name}'s load and data are not used`]);
    }
    const capped = harness.translate(loadProfile("sanity_concurrent", ['limits={"max_duration_s":30}']).profile, ctx);
    expect(capped.kind === "ok" && capped.invocations[0]!.argv).toContain("30");
  });

  it("the probe gives up after its timeout on a server that is not there, saying so", () => {
    const r = harness.translate(loadProfile("sanity_concurrent", ['limits={"max_duration_s":1}']).profile, { ...ctx, target: "http://127.0.0.1:9" });
    if (r.kind !== "ok") throw new Error(r.reason);
    const dir = mkdtempSync(join(tmpdir(), "hub-nop-probe-"));
    for (const [f, c] of Object.entries(r.invocations[0]!.files!)) writeFileSync(join(dir, f), c);
    const argv = r.invocations[0]!.argv;
    let status = 0;
    let stderr = "";
    try {
      execFileSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: "pipe" });
    } catch (e) {
      status = (e as { status: number }).status;
      stderr = String((e as { stderr: Buffer }).stderr);
    }
    expect(status).toBe(1);
    expect(stderr).toMatch(/GET \/health did not answer 200 within 1 s/);
  });
});
