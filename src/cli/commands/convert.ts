import type { Command } from "commander";
import { existsSync } from "node:fs";
import { writeOutputFile } from "../../output-paths.ts";
import { basename, resolve } from "node:path";
import { UserError } from "../../errors.ts";

export function registerConvertCommand(program: Command): void {
  program
    .command("convert <native-output>")
    .description("Convert a harness's own output (file or directory) into hub's metrics.json")
    .requiredOption("--harness <name>", "the harness that wrote the output")
    .option("--out <file>", "write metrics.json here instead of printing it")
    .action(async (nativePath: string, o: { harness: string; out?: string }) => {
      const { getHarness } = await import("../../harness/registry.ts");
      const { assembleMetrics } = await import("../../metrics/assemble.ts");
      const { summaryTable } = await import("../../report/table.ts");
      const harness = getHarness(o.harness);
      const path = resolve(nativePath);
      if (!existsSync(path)) throw new UserError(`${nativePath} does not exist`);
      const { convertSafely } = await import("../../run/convert.ts");
      const r = await convertSafely(harness, path, {});
      if (r.kind === "failed") throw new UserError(`cannot convert ${nativePath} as ${harness.name} output: ${r.reason}`);
      for (const w of r.warnings) process.stderr.write(`hub: warning: ${w}\n`);
      const { metrics, warnings } = assembleMetrics(
        {
          id: `convert-${basename(path)}`,
          harness: { name: harness.name, version: r.harnessVersion },
          profile: "unknown",
          target: null,
          model: null,
          runtime: null,
          started_at: null,
          ended_at: null,
          exit_code: null,
        },
        r.stages,
        r.startup,
      );
      for (const w of warnings) process.stderr.write(`hub: warning: ${w}\n`);
      const json = `${JSON.stringify(metrics, null, 2)}\n`;
      if (o.out) {
        writeOutputFile(o.out, json, "--out");
        process.stderr.write(`${summaryTable(metrics)}\nhub: wrote ${o.out}\n`);
      } else process.stdout.write(json);
    });
}
