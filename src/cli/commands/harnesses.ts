import type { Command } from "commander";
import { withInterrupts } from "../interrupt.ts";
import type { HarnessDefinition } from "../../harness/contract.ts";

function installState(h: HarnessDefinition, { envFor, installSource, isInstalled }: typeof import("../../runtime/python.ts")): string {
  if (installSource(h) === "none") return "yes (ships with hub)";
  if (isInstalled(h)) return `yes (${envFor(h).dir})`;
  return installSource(h) === "path" ? "no (install with --from <source or wheel>)" : "no";
}

export function registerHarnessCommands(program: Command): void {
  program
    .command("harnesses")
    .description("Harnesses hub knows")
    .command("list")
    .description("Name, pinned version, install state and the profile features each can express")
    .option("--names", "print only the names, one a line (for scripts)")
    .option("--from-index", "only harnesses installable from the package index (no --from path needed)")
    .action(async (o: { names?: boolean; fromIndex?: boolean }) => {
      const { allHarnesses, getHarness } = await import("../../harness/registry.ts");
      const { ALL_FEATURES } = await import("../../harness/features.ts");
      const { renderTable } = await import("../../report/table.ts");
      const python = await import("../../runtime/python.ts");
      const { envFor, installHarness, installSource, isInstalled } = python;
      const hs = allHarnesses().filter((h) => !o.fromIndex || installSource(h) === "index");
      if (o.names) {
        for (const h of hs) console.log(h.name);
        return;
      }
      console.log(
        renderTable(
          ["harness", "version", "installed", "description"],
          hs.map((h) => [h.name, h.version, installState(h, python), h.description]),
        ),
      );
      console.log("");
      console.log(renderTable(["feature", ...hs.map((h) => h.name)], ALL_FEATURES.map((f) => [f, ...hs.map((h) => (h.capabilities.includes(f) ? "yes" : "-"))])));
    });

  const harness = program.command("harness").description("Manage one harness");
  harness
    .command("install <name>")
    .description("Create the harness's Python environment ahead of time (otherwise `hub run` does it on first use)")
    .option("--force", "reinstall even when installed")
    .option("--from <path>", "install the harness from this source directory or wheel (for a harness on no package index, e.g. fmperf)")
    .action(async (name: string, o: { force?: boolean; from?: string }) => {
      const { allHarnesses, getHarness } = await import("../../harness/registry.ts");
      const { ALL_FEATURES } = await import("../../harness/features.ts");
      const { renderTable } = await import("../../report/table.ts");
      const python = await import("../../runtime/python.ts");
      const { envFor, installHarness, installSource, isInstalled } = python;
      const h = getHarness(name);
      const r = await withInterrupts(`installing ${name}`, (signal) =>
        installHarness(h, { force: Boolean(o.force), ...(o.from !== undefined ? { from: o.from } : {}), onLine: (l) => process.stderr.write(`  ${l}\n`), signal }),
      );
      if (r.kind === "failed" && r.reason === "install interrupted") {
        process.stderr.write(`hub: installing ${name} interrupted; nothing was kept\n`);
        process.exitCode = 130;
        return;
      }
      if (r.kind === "failed") {
        process.stderr.write(`hub: installing ${name} failed: ${r.reason}\n`);
        process.exitCode = 1;
        return;
      }
      console.log(`${h.name} ${r.version} ${r.alreadyInstalled ? "is already installed" : "installed"} in ${r.env.dir}`);
    });
}
