import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configPlugins, loadPlugins } from "../../src/harness/plugins.ts";

const HUB = fileURLToPath(new URL("../../bin/hub.js", import.meta.url));

/** A plugin outside the package, as plain JavaScript (no imports needed: defineHarness is the identity). */
const GOOD = `export default {
  name: "echo-plugin", description: "test plugin", version: "1.0",
  install: { kind: "pip", distribution: "echo", packages: [] },
  capabilities: ["api.completion", "load.concurrent", "data.random", "stage.duration"],
  translate: () => ({ kind: "ok", invocations: [], warnings: [] }),
  converter: { knownVersions: ["1.0"], convert: async () => ({ kind: "failed", reason: "none" }) },
};\n`;

function pluginDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "hub-plugins-"));
  mkdirSync(join(dir, "good"));
  writeFileSync(join(dir, "good", "index.mjs"), GOOD);
  writeFileSync(join(dir, "broken.mjs"), "export default {;\n");
  writeFileSync(join(dir, "shapeless.mjs"), "export default { name: 'Bad Name', version: 1 };\n");
  writeFileSync(join(dir, "clash.mjs"), GOOD.replace("echo-plugin", "guidellm"));
  return dir;
}

describe("plugin loading", () => {
  it("loads good plugins and reports each bad one by name with the reason", async () => {
    const dir = pluginDir();
    const results = await loadPlugins(
      ["./good/index.mjs", "./broken.mjs", "./shapeless.mjs", "./clash.mjs", "./missing.mjs"].map((spec) => ({ spec, base: dir })),
      new Set(["guidellm"]),
    );
    expect(results.map((r) => r.kind)).toEqual(["ok", "failed", "failed", "failed", "failed"]);
    expect(results[0]!.kind === "ok" && results[0]!.harness.name).toBe("echo-plugin");
    const reasons = results.slice(1).map((r) => (r.kind === "failed" ? r.reason : ""));
    expect(reasons[0]).toMatch(/parse|Unexpected|SyntaxError/i);
    expect(reasons[1]).toMatch(/not a harness definition.*name/);
    expect(reasons[2]).toMatch(/already registered/);
    expect(reasons[3]).toMatch(/Cannot find|not found/i);
  });

  it("reads plugins from hub.config.yaml relative to it", () => {
    const dir = pluginDir();
    writeFileSync(join(dir, "hub.config.yaml"), "plugins:\n  - ./good/index.mjs\n");
    expect(configPlugins(dir)).toEqual([{ spec: "./good/index.mjs", base: dir }]);
  });

  it("the CLI lists a plugin from hub.config.yaml and --plugin, and warns about a broken one", async () => {
    const dir = pluginDir();
    writeFileSync(join(dir, "hub.config.yaml"), "plugins: [./good/index.mjs]\n");
    const r = await execa(process.execPath, [HUB, "--plugin", "./broken.mjs", "harnesses", "list"], { cwd: dir, reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/echo-plugin\s+1\.0/);
    expect(r.stdout).toMatch(/guidellm/);
    expect(r.stderr).toMatch(/plugin \.\/broken\.mjs not loaded/);
  });
});
