/**
 * The npm package as a user gets it: `npm pack` (which builds dist/), installed from the tarball
 * into an empty project beside a tiny plugin package that depends on it, then `hub --help`,
 * `hub harnesses list` (showing the plugin) and `hub run` against hub's simulator through the
 * installed bin, on Node 24 and, where CI provides it (HUB_TEST_NODE22), on Node 22.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { readValidMetrics } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const FAKE_BENCH = new URL("../fixtures/bin/fake-bench.js", import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), "hub-package-"));
const project = join(work, "project");

/** A plugin harness as a third party would publish it: plain JavaScript importing "harness-hub". */
const PLUGIN_INDEX = `import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineHarness } from "harness-hub";

const BENCH = fileURLToPath(new URL("./bench.js", import.meta.url));

export default defineHarness({
  name: "tiny",
  description: "a tiny load generator published as its own package",
  version: "1.0",
  install: { kind: "pip", distribution: "tiny", packages: [] },
  capabilities: ["api.completion", "load.concurrent", "stage.requests", "data.random"],
  translate(profile, ctx) {
    const stage = profile.load.stages[0];
    return { kind: "ok", warnings: [], invocations: [{ argv: [process.execPath, BENCH, ctx.target, ctx.model, String(stage.requests), String(profile.data.output_tokens.mean), join(ctx.outputDir, "out.json")] }] };
  },
  converter: {
    knownVersions: ["1.0"],
    async convert(dir) {
      const data = JSON.parse(readFileSync(join(dir, "out.json"), "utf8"));
      const records = data.requests.map((r) => ({ status: r.status === 200 ? "ok" : "failed", start_s: r.start, end_s: r.end, first_token_s: r.tokens[0], last_token_s: r.tokens.at(-1), token_times_s: r.tokens, output_tokens: r.tokens.length }));
      return { kind: "ok", harnessVersion: "1.0", warnings: [], stages: [{ index: 0, load: { type: "concurrent", concurrency: 1 }, records }] };
    },
  },
});
`;

async function npm(args: string[], cwd: string) {
  const r = await execa("npm", args, { cwd, reject: false, timeout: 300_000, env: { npm_config_audit: "false", npm_config_fund: "false" } });
  if (r.exitCode !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r;
}

beforeAll(async () => {
  await npm(["pack", "--pack-destination", work], ROOT);
  const tarball = readdirSync(work).find((f) => f.startsWith("harness-hub-") && f.endsWith(".tgz"))!;
  const plugin = join(work, "tiny");
  mkdirSync(plugin);
  writeFileSync(join(plugin, "package.json"), JSON.stringify({ name: "hub-harness-tiny", version: "1.0.0", type: "module", main: "index.js", peerDependencies: { "harness-hub": "*" } }));
  writeFileSync(join(plugin, "index.js"), PLUGIN_INDEX);
  copyFileSync(FAKE_BENCH, join(plugin, "bench.js"));
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true, type: "module" }));
  writeFileSync(join(project, "hub.config.yaml"), "plugins: [hub-harness-tiny]\n");
  // Packed too, as a registry install would copy it (a folder install is a symlink, whose real
  // path has no node_modules to find harness-hub in).
  await npm(["pack", "--pack-destination", work], plugin);
  await npm(["install", "--prefer-offline", join(work, tarball), join(work, "hub-harness-tiny-1.0.0.tgz")], project);
}, 600_000);

const nodes = [{ name: "24 (this one)", node: process.execPath }, ...(process.env.HUB_TEST_NODE22 ? [{ name: "22", node: process.env.HUB_TEST_NODE22 }] : [])];

describe("the installed npm package", () => {
  it("ships built JavaScript and no tests or fixtures", async () => {
    const files = (await execa("tar", ["tzf", join(work, readdirSync(work).find((f) => f.startsWith("harness-hub-") && f.endsWith(".tgz"))!)])).stdout.split("\n");
    expect(files).toContain("package/dist/src/cli/main.js");
    expect(files).toContain("package/dist/src/index.d.ts");
    expect(files).toContain("package/dist/profiles/sanity_concurrent.yaml");
    // The plugin template (`hub harness new`) keeps its example fixture and TypeScript on purpose.
    expect(files.filter((f) => f.startsWith("package/test/") || (f.includes("/fixtures/") && !f.includes("/_template/")))).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts") && !f.includes("/_template/"))).toEqual([]);
  });

  if (process.env.CI) it("CI provides Node 22 for this test (HUB_TEST_NODE22)", () => expect(process.env.HUB_TEST_NODE22).toBeTruthy());

  for (const { name, node } of nodes) {
    it(`on Node ${name}: --help, harnesses list with the plugin, and a run against the simulator`, async () => {
      const hub = (args: string[]) => execa(node, [join(project, "node_modules", "harness-hub", "bin", "hub.js"), ...args], { cwd: project, reject: false, timeout: 120_000 });
      const help = await hub(["--help"]);
      expect(help.exitCode, String(help.stderr)).toBe(0);
      expect(help.stdout).toMatch(/Usage: hub/);
      const list = await hub(["harnesses", "list"]);
      expect(list.stdout).toMatch(/^tiny\s+1\.0/m);
      const out = join(work, `run-${node === process.execPath ? "24" : "22"}`);
      const run = await hub(["run", "--harness", "tiny", "--profile", "sanity_concurrent", "-o", "load.stages.0.duration_s=null", "-o", "load.stages.0.requests=3", "-o", "data.output_tokens.mean=8", "--out", out, "--quiet"]);
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
      const m = readValidMetrics(out);
      expect(m.stages[0]!.requests.successful).toBe(3);
      expect(m.run.harness).toMatchObject({ name: "tiny", version: "1.0" });
    }, 180_000);
  }
});
