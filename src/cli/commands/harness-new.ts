import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { UserError } from "../../errors.ts";

/**
 * `hub harness new <name>`: a plugin folder copied from harnesses/_template, with `__NAME__`
 * replaced by the name, a package.json, and node_modules/harness-hub linked to this hub so the
 * plugin's `import ... from "harness-hub"` resolves and its generated test runs at once.
 */

/** This hub's package root (where its package.json is). */
export const HUB_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const TEMPLATE_DIR = join(HUB_ROOT, "harnesses", "_template");
const PLACEHOLDER = /__NAME__/g;
/** Same rule the plugin loader checks names against (src/harness/plugins.ts). */
const NAME = /^[a-z0-9][a-z0-9_-]*$/;

export interface ScaffoldOptions {
  name: string;
  /** The folder the plugin folder is created in. */
  parent: string;
  /** Link node_modules/harness-hub to this hub (default true). */
  link?: boolean;
}

export interface Scaffolded {
  dir: string;
  /** Files written, relative to dir. */
  files: string[];
}

function packageJson(name: string): string {
  const pkg = {
    name: `hub-harness-${name}`,
    version: "0.1.0",
    description: `harness-hub plugin for ${name}`,
    type: "module",
    private: true,
    exports: { ".": "./index.ts" },
    scripts: { test: "node --test test.ts" },
    peerDependencies: { "harness-hub": "*" },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** Template files, relative to the template folder (never its node_modules). */
function templateFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...templateFiles(p, base));
    else if (entry.isFile()) out.push(relative(base, p));
  }
  return out.sort();
}

export function scaffoldHarness(opts: ScaffoldOptions): Scaffolded {
  const { name } = opts;
  if (!NAME.test(name)) throw new UserError(`harness name "${name}" must be lower-case letters, digits, '-' and '_', starting with a letter or digit`);
  const parent = resolve(opts.parent);
  if (existsSync(parent) && !statSync(parent).isDirectory()) throw new UserError(`${opts.parent} is not a folder`);
  const dir = join(parent, name);
  if (existsSync(dir)) throw new UserError(`${dir} already exists; choose another name or --dir`);
  if (!existsSync(join(TEMPLATE_DIR, "index.ts"))) throw new UserError(`the plugin template is missing from this hub (${TEMPLATE_DIR})`);

  const files: string[] = [];
  for (const rel of templateFiles(TEMPLATE_DIR)) {
    const target = join(dir, rel);
    mkdirSync(join(target, ".."), { recursive: true });
    const content = readFileSync(join(TEMPLATE_DIR, rel));
    // Every template file is text; binary fixtures would be copied as they are.
    const text = content.toString("utf8");
    writeFileSync(target, content.includes(0) ? content : text.replace(PLACEHOLDER, name));
    files.push(rel);
  }
  writeFileSync(join(dir, "package.json"), packageJson(name));
  files.push("package.json");

  if (opts.link !== false) {
    // Node resolves the link to its real path, so hub's .ts sources are not "under node_modules"
    // and their types are stripped as usual.
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(HUB_ROOT.replace(/\/$/, ""), join(dir, "node_modules", "harness-hub"), "dir");
    files.push("node_modules/harness-hub");
  }
  return { dir, files: files.sort() };
}

/** Adds `new <name>` to the `hub harness` command group (created here if it does not exist yet). */
export function registerHarnessNewCommand(program: Command): void {
  const harness = program.commands.find((c) => c.name() === "harness") ?? program.command("harness").description("Manage one harness");
  harness
    .command("new <name>")
    .description("Scaffold a harness plugin: adapter, converter, fixture folder and a test that runs (node --test)")
    .option("--dir <folder>", "create the plugin folder in this folder", ".")
    .option("--no-link", "do not link node_modules/harness-hub to this hub (the plugin then needs harness-hub installed)")
    .action((name: string, o: { dir: string; link: boolean }) => {
      const r = scaffoldHarness({ name, parent: o.dir, link: o.link });
      const shown = relative(process.cwd(), r.dir) || ".";
      console.log(`created ${r.dir}`);
      for (const f of r.files) console.log(`  ${f}`);
      console.log("");
      console.log("next:");
      console.log(`  cd ${shown} && node --test test.ts      # the generated test passes as it is`);
      console.log(`  hub --plugin ./${shown} harnesses list`);
      console.log("then make index.ts and converter.ts speak your tool, and record real output into fixtures/ (docs/plugins.md)");
    });
}
