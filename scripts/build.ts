/**
 * Builds the npm package's contents into dist/ (run by `npm pack` through prepack): the
 * TypeScript of src/, harnesses/ and converters/ compiled to JavaScript with type declarations,
 * and every file hub reads at run time (profiles, schemas, Dockerfiles, harness scripts, the
 * plugin template) copied beside it in the same layout, so paths relative to a module work the
 * same from a checkout and from an installed package. A checkout runs the TypeScript directly.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIST = join(ROOT, "dist");
const started = performance.now();

rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.build.json")], { stdio: "inherit" });

/** Files that are not TypeScript (or are templates kept as TypeScript), by folder. */
function copyAssets(dir: string, keep: (rel: string) => boolean): number {
  let n = 0;
  for (const rel of readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })) {
    const src = join(ROOT, dir, rel);
    if (!statSync(src).isFile() || !keep(join(dir, rel))) continue;
    const dest = join(DIST, dir, rel);
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(src, dest);
    n++;
  }
  return n;
}
const notTs = (p: string) => !p.endsWith(".ts") && !p.includes("__pycache__");
let copied = 0;
copied += copyAssets("profiles", () => true);
copied += copyAssets("schemas", () => true);
copied += copyAssets("converters", notTs);
copied += copyAssets("src", notTs);
copied += copyAssets("harnesses", (p) => notTs(p) || p.startsWith(join("harnesses", "_template")));

// dist/ is a package of its own (name, version, exports), so `hub harness new` can link a plugin
// to it and hub reads its version from it, exactly as from a checkout's root.
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
const own = { name: pkg.name, version: pkg.version, type: "module", exports: { ".": { types: "./src/index.d.ts", default: "./src/index.js" } } };
writeFileSync(join(DIST, "package.json"), `${JSON.stringify(own, null, 2)}\n`);

const files = readdirSync(DIST, { recursive: true, encoding: "utf8" }).filter((f) => statSync(join(DIST, f)).isFile()).length;
console.log(`built ${relative(ROOT, DIST)}/: ${files} files (${copied} copied as they are) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
