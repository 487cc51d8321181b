import type { Command } from "commander";
import { FORMAT_NAMES, type FormatName } from "../../report/formats/names.ts";
import { writeOutputFile } from "../../output-paths.ts";
import { extname } from "node:path";
import { UserError } from "../../errors.ts";

const BY_EXTENSION: Record<string, FormatName> = { ".html": "html", ".htm": "html", ".md": "md", ".csv": "csv", ".json": "json", ".txt": "table" };

export function registerCompareCommand(program: Command): void {
  program
    .command("compare <runs...>")
    .description("Compare runs side by side (any harnesses, profiles, targets): run directories, metrics.json files, or directories of runs")
    .option("--baseline <run>", "show every value's change against this run: #n, a run id, or a path (another run directory is added first)")
    .option("--format <format>", `${FORMAT_NAMES.join(" | ")} (default: from --out's extension, else table)`)
    .option("--out <file>", "write the report here; the table still goes to stdout")
    .addHelpText(
      "after",
      "\nExamples:\n  hub compare results/\n  hub compare results/run-a results/run-b --baseline '#1'\n  hub compare results/ --out report.html",
    )
    .action(async (inputs: string[], o: { baseline?: string; format?: string; out?: string }) => {
      const { buildComparison, placeBaseline } = await import("../../report/compare.ts");
      const { EMBEDS_WARNINGS, formats } = await import("../../report/formats/index.ts");
      const { loadRuns } = await import("../../report/load.ts");
      const format = (o.format ?? (o.out ? BY_EXTENSION[extname(o.out).toLowerCase()] : undefined) ?? "table") as FormatName;
      if (!FORMAT_NAMES.includes(format)) throw new UserError(`unknown --format "${o.format}"; one of ${FORMAT_NAMES.join(", ")}`);
      const warn = (m: string) => process.stderr.write(`hub: warning: ${m}\n`);
      const { runs, baseline } = placeBaseline(loadRuns(inputs, warn), o.baseline, (p) => loadRuns([p]));
      const cmp = buildComparison(runs, baseline);
      const text = formats[format](cmp);
      if (o.out) {
        writeOutputFile(o.out, text.endsWith("\n") ? text : `${text}\n`, "--out");
        process.stdout.write(`${formats.table(cmp)}\n`);
        process.stderr.write(`hub: wrote ${o.out}\n`);
      } else process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
      // With --out the table on stdout carries the warnings; on its own a CSV cannot.
      if (!o.out && !EMBEDS_WARNINGS.has(format)) {
        for (const w of cmp.warnings) process.stderr.write(`hub: warning: ${w}\n`);
      }
    });
}
