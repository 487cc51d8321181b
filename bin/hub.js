#!/usr/bin/env node
// Node >= 22.18 runs TypeScript by stripping types, so there is no build step.
import { main } from "../src/cli/main.ts";

process.exitCode = await main(process.argv);
