/**
 * How long `hub --help` and `hub profiles list` take to start, side by side with `node -e 0` on the
 * same machine in the same run (interleaved, so a busy moment hits all three alike).
 *
 *   node bench/startup.ts [--runs 15]
 *
 * Reports each command's median wall time and its ratio to `node -e 0` (target: within 3×). Both
 * ways hub runs: from this checkout (TypeScript, types stripped at load) and as the installed
 * package does (dist/, built first by scripts/build.ts, run through a copy of bin/hub.js that
 * sees no src/ beside it).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { percentile } from "../src/metrics/stats.ts";

const { values } = parseArgs({ options: { runs: { type: "string", default: "15" } } });
const runs = Number(values.runs);
const ROOT = new URL("../", import.meta.url).pathname;
const HUB = join(ROOT, "bin/hub.js");
execFileSync(process.execPath, [join(ROOT, "scripts/build.ts")], { stdio: "ignore" });
const pkg = mkdtempSync(join(tmpdir(), "hub-startup-"));
mkdirSync(join(pkg, "bin"));
copyFileSync(HUB, join(pkg, "bin/hub.js"));
symlinkSync(join(ROOT, "dist"), join(pkg, "dist"));
const BUILT = join(pkg, "bin/hub.js");
const commands: Record<string, string[]> = {
  "node -e 0": ["-e", "0"],
  "hub --help": [HUB, "--help"],
  "hub profiles list": [HUB, "profiles", "list"],
  "hub --help (built package)": [BUILT, "--help"],
  "hub profiles list (built package)": [BUILT, "profiles", "list"],
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
const load = loadavg()[0]!;
for (let i = 0; i < runs + 1; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const t = performance.now();
    execFileSync(process.execPath, args, { stdio: "ignore" });
    if (i > 0) times[name]!.push(performance.now() - t); // the first round warms the file cache
  }
}
const floor = percentile(times["node -e 0"]!, 0.5);
console.log(`startup, ${runs} interleaved runs each, Node ${process.version}, load average ${load.toFixed(2)} at start`);
console.log("| command | median ms | p90 ms | ratio to node -e 0 |\n|---|---:|---:|---:|");
for (const [name, t] of Object.entries(times)) {
  const med = percentile(t, 0.5);
  console.log(`| \`${name}\` | ${med.toFixed(0)} | ${percentile(t, 0.9).toFixed(0)} | ${(med / floor).toFixed(1)}× |`);
}
