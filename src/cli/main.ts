import { Command, CommanderError } from "commander";
import { debugEnabled, isUserError, oneLine, pathMistake } from "../errors.ts";
import { existsSync } from "node:fs";
import { HUB_VERSION } from "../version.ts";
import { registerCalibrateCommand } from "./commands/calibrate.ts";
import { registerCompareCommand } from "./commands/compare.ts";
import { registerConvertCommand } from "./commands/convert.ts";
import { registerDockerCommands } from "./commands/docker.ts";
import { registerExportCommand } from "./commands/export.ts";
import { registerHarnessCommands } from "./commands/harnesses.ts";
import { registerHarnessNewCommand } from "./commands/harness-new.ts";
import { registerProfilesCommand } from "./commands/profiles.ts";
import { registerRunCommand } from "./commands/run.ts";
import { registerSimCommand } from "./commands/sim.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command("hub")
    .description("Run one harness-neutral LLM serving workload with any benchmark harness and compare the results on one set of metric definitions.")
    .version(HUB_VERSION)
    .option("--debug", "print the stack of an unexpected failure (also HUB_DEBUG=1)")
    .option("--plugin <path>", "load a harness plugin (a folder or module exporting defineHarness({...})); repeatable; also `plugins:` in ./hub.config.yaml", collect, [])
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .hook("preAction", async (cmd) => {
      // Plugins (and so the registry and every built-in harness) load only when there are any.
      const given = cmd.opts().plugin as string[];
      if (given.length === 0 && !existsSync("hub.config.yaml")) return;
      const { configPlugins, loadPlugins } = await import("../harness/plugins.ts");
      const { builtinNames, registerPlugins } = await import("../harness/registry.ts");
      const specs = [...configPlugins(), ...given.map((spec) => ({ spec, base: process.cwd() }))];
      if (specs.length === 0) return;
      const loaded = await loadPlugins(specs, builtinNames());
      for (const l of loaded) if (l.kind === "failed") process.stderr.write(`hub: warning: plugin ${l.spec} not loaded: ${l.reason}\n`);
      registerPlugins(loaded.flatMap((l) => (l.kind === "ok" ? [l.harness] : [])));
    });
  registerRunCommand(program);
  registerProfilesCommand(program);
  registerHarnessCommands(program);
  registerHarnessNewCommand(program);
  registerDockerCommands(program);
  registerConvertCommand(program);
  registerSimCommand(program);
  registerCompareCommand(program);
  registerExportCommand(program);
  registerCalibrateCommand(program);
  return program;
}

/** Runs the CLI; returns the exit code: 2 for the user's mistakes, 1 for failures, both one line. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return e.exitCode === 1 ? 2 : e.exitCode;
    }
    const mistake = isUserError(e) ? e : pathMistake(e);
    if (mistake) {
      process.stderr.write(`hub: error: ${mistake.message}\n`);
      return 2;
    }
    process.stderr.write(`hub: failed: ${oneLine(e)}\n`);
    if (debugEnabled(argv)) process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    else process.stderr.write("hub: (run with --debug or HUB_DEBUG=1 for the stack)\n");
    return 1;
  }
}
