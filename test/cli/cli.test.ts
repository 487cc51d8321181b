import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const HUB = fileURLToPath(new URL("../../bin/hub.js", import.meta.url));
const hub = (...args: string[]) => execa(process.execPath, [HUB, ...args], { reject: false, env: { NO_COLOR: "1" } });
const noStackTrace = (s: string) => expect(s).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

function brokenProfile(): string {
  const p = join(mkdtempSync(join(tmpdir(), "hub-cli-")), "broken.yaml");
  writeFileSync(p, "name: broken\nload:\n  type: concurrent\n  stages:\n    - {concurrency: -2, duration_s: 10}\ndata: {type: random, input_tokens: {mean: 10}, output_tokens: {mean: 10}}\n");
  return p;
}

describe("hub CLI", () => {
  it("--help lists the commands", async () => {
    const r = await hub("--help");
    expect(r.exitCode).toBe(0);
    for (const c of ["run", "profiles", "harnesses", "harness", "convert", "sim"]) expect(r.stdout).toContain(c);
  });

  it("profiles validate: a broken profile exits 2 naming file and field path, without a stack trace", async () => {
    const p = brokenProfile();
    const r = await hub("profiles", "validate", p);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(p);
    expect(r.stderr).toContain("load.stages[0].concurrency");
    noStackTrace(r.stderr);
  });

  it("profiles validate accepts every built-in profile", async () => {
    const r = await hub("profiles", "validate", "sanity_concurrent", "shared_prefix_synthetic");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('valid profile "shared_prefix_synthetic"');
  });

  it("profiles list and show", async () => {
    const list = await hub("profiles", "list");
    expect(list.stdout).toMatch(/sanity_concurrent\s+concurrent 2/);
    const show = await hub("profiles", "show", "sanity_concurrent", "-o", "load.stages.0.concurrency=8");
    expect(show.stdout).toContain("concurrency: 8");
  });

  it("an unknown harness or profile exits 2 listing the valid names", async () => {
    const h = await hub("run", "--harness", "nope", "--profile", "sanity_concurrent");
    expect(h.exitCode).toBe(2);
    expect(h.stderr).toMatch(/unknown harness "nope"\. Known harnesses: .*guidellm/);
    const p = await hub("run", "--harness", "guidellm", "--profile", "nope");
    expect(p.exitCode).toBe(2);
    expect(p.stderr).toMatch(/unknown profile "nope"\. Built-in profiles: .*sanity_concurrent/);
    noStackTrace(h.stderr + p.stderr);
  });

  it("a bad override exits 2", async () => {
    const r = await hub("run", "--harness", "guidellm", "--profile", "sanity_concurrent", "-o", "load.stages.0.concurency=4", "--out", join(mkdtempSync(join(tmpdir(), "hub-cli-")), "r"));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unknown field "concurency"');
  });

  it("an unreachable target exits 2 before any harness starts", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "hub-cli-")), "r");
    const r = await hub("run", "--harness", "guidellm", "--profile", "sanity_concurrent", "--target", "http://127.0.0.1:9", "--out", out);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/not reachable/);
    noStackTrace(r.stderr);
  });

  it("a missing required option or unknown flag is a usage error (exit 2)", async () => {
    expect((await hub("run", "--profile", "sanity_concurrent")).exitCode).toBe(2);
    expect((await hub("run", "--bogus")).exitCode).toBe(2);
  });

  it("harnesses list shows the pinned version, install state and features", async () => {
    const r = await hub("harnesses", "list");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/guidellm\s+0\.8\.1\s+(yes|no)/);
    expect(r.stdout).toMatch(/load\.concurrent\s+yes/);
  });
});
