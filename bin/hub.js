#!/usr/bin/env node
// Node >= 22.18 runs TypeScript by stripping types, so there is no build step.
import { main } from "../src/cli/main.ts";

// `hub ... | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv);
