import { existsSync, lstatSync, mkdtempSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { HUB_ROOT, scaffoldHarness } from "../../src/cli/commands/harness-new.ts";

const HUB = fileURLToPath(new URL("../../bin/hub.js", import.meta.url));
const hub = (args: string[], cwd: string) => execa(process.execPath, [HUB, ...args], { cwd, reject: false, env: { NO_COLOR: "1" } });
const temp = () => mkdtempSync(join(tmpdir(), "hub-new-"));

describe("hub harness new", () => {
  it("a plugin scaffolded by `hub harness new demo` passes its own generated test", async () => {
    const parent = temp();
    const r = await hub(["harness", "new", "demo"], parent);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`created ${join(parent, "demo")}`);
    const dir = join(parent, "demo");
    for (const f of ["index.ts", "converter.ts", "test.ts", "README.md", "package.json", "fixtures/0.1.0/results.json", "fixtures/0.1.0/README.md"]) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    // No placeholder is left, and the plugin imports only the public API.
    for (const f of ["index.ts", "converter.ts", "test.ts", "README.md", "fixtures/0.1.0/README.md"]) {
      const text = readFileSync(join(dir, f), "utf8");
      expect(text, f).not.toContain("__NAME__");
      for (const m of text.matchAll(/from "([^"]+)"/g)) expect(m[1], `${f} imports ${m[1]}`).toMatch(/^(harness-hub|node:[a-z/]+|\.\/[a-z]+\.ts)$/);
    }
    expect(readFileSync(join(dir, "index.ts"), "utf8")).toContain('name: "demo"');

    // The generated test, on Node's runner, from inside the plugin folder: no install needed. The
    // link points at this checkout, whose "harness-hub" is its source under the "source" condition
    // (an installed hub's is its built dist/, which the package test covers).
    const t = await execa(process.execPath, ["--conditions=source", "--test", "test.ts"], { cwd: dir, reject: false });
    expect(t.exitCode, `${t.stdout}\n${t.stderr}`).toBe(0);
    expect(t.stdout).toMatch(/ℹ pass 5/);
    expect(t.stdout).toMatch(/ℹ fail 0/);
  }, 60_000);

  it("hub loads the scaffolded folder as a plugin by path", async () => {
    const parent = temp();
    scaffoldHarness({ name: "demo-two", parent });
    const r = await hub(["--plugin", "./demo-two", "harnesses", "list", "--names"], parent);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n")).toContain("demo-two");
  }, 60_000);

  it("links node_modules/harness-hub to this hub, writes a package.json, and can skip the link", () => {
    const parent = temp();
    const made = scaffoldHarness({ name: "linked", parent });
    const link = join(made.dir, "node_modules", "harness-hub");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(realpathSync(link)).toBe(realpathSync(HUB_ROOT));
    const pkg = JSON.parse(readFileSync(join(made.dir, "package.json"), "utf8"));
    expect(pkg).toMatchObject({ name: "hub-harness-linked", type: "module", scripts: { test: "node --test test.ts" } });
    expect(made.files).toContain("node_modules/harness-hub");

    const bare = scaffoldHarness({ name: "bare", parent, link: false });
    expect(existsSync(join(bare.dir, "node_modules"))).toBe(false);
    expect(bare.files).not.toContain("node_modules/harness-hub");
  }, 60_000);

  it("refuses a bad name and an existing folder, by name, with exit code 2", async () => {
    const parent = temp();
    const bad = await hub(["harness", "new", "Bad Name"], parent);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/harness name "Bad Name" must be lower-case/);
    const underscore = await hub(["harness", "new", "_private"], parent);
    expect(underscore.exitCode).toBe(2);

    scaffoldHarness({ name: "taken", parent });
    const again = await hub(["harness", "new", "taken", "--dir", parent], temp());
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/taken already exists/);
  }, 60_000);
});
