import type { Command } from "commander";
import { writeFileSync } from "node:fs";
import { ensureOutputDir } from "../../output-paths.ts";
import { basename, join } from "node:path";
import { UserError } from "../../errors.ts";

const EXPORT_FORMATS = ["br-v0.2"];

export function registerExportCommand(program: Command): void {
  program
    .command("export <runs...>")
    .description("Write runs in another tool's format: br-v0.2 is llm-d's Benchmark Report v0.2, one YAML file per stage")
    .requiredOption("--format <format>", EXPORT_FORMATS.join(" | "))
    .option("--out <dir>", "directory for the reports (default: each run's own directory); `-` prints them to stdout")
    .option("--json", "write JSON instead of YAML (llm-d's tools read both; its file globs look for .yaml)")
    .addHelpText("after", "\nExamples:\n  hub export --format br-v0.2 results/20260101-120000Z-guidellm-sanity_concurrent\n  hub export --format br-v0.2 results/ --out br/")
    .action(async (inputs: string[], o: { format: string; out?: string; json?: boolean }) => {
      const { stringify } = await import("yaml");
      const { toBenchmarkReports } = await import("../../report/br.ts");
      const { loadRuns, displayPath } = await import("../../report/load.ts");
      if (!EXPORT_FORMATS.includes(o.format)) throw new UserError(`unknown --format "${o.format}"; one of ${EXPORT_FORMATS.join(", ")}`);
      const runs = loadRuns(inputs, (m) => process.stderr.write(`hub: warning: ${m}\n`));
      // YAML 1.1 quoting, because llm-d reads with PyYAML (YAML 1.1): an unquoted `yes` or `1.0`
      // would come back as a bool or a float and fail its string fields.
      const serialise = (r: unknown) => (o.json ? `${JSON.stringify(r, null, 2)}\n` : stringify(r, { version: "1.1", lineWidth: 0 }));
      for (const run of runs) {
        const warn = (m: string) => process.stderr.write(`hub: warning: ${run.metrics.run.id} ${m}\n`);
        const reports = toBenchmarkReports(run, warn);
        if (o.out === "-") {
          // A YAML stream (or one JSON document per line group) a script can split.
          for (const r of reports) process.stdout.write(o.json ? serialise(r.report) : `---\n${serialise(r.report)}`);
          continue;
        }
        const dir = o.out ? (runs.length > 1 ? join(o.out, run.dir ? basename(run.dir) : run.metrics.run.id) : o.out) : run.dir;
        if (!dir) throw new UserError(`${run.path} is not in a run directory; give --out DIR`);
        ensureOutputDir(dir, o.out ? "--out" : "the run directory");
        for (const r of reports) {
          const file = join(dir, o.json ? r.fileName.replace(/\.yaml$/, ".json") : r.fileName);
          writeFileSync(file, serialise(r.report));
          process.stderr.write(`hub: wrote ${displayPath(file)}\n`);
        }
      }
    });
}
