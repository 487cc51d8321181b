import type { Command } from "commander";
import type { HarnessDefinition } from "../../harness/contract.ts";
import { resolve } from "node:path";
import { isUserError, pathMistake } from "../../errors.ts";
import type { Profile } from "../../profile/schema.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

function loadSummary(p: Profile): string {
  const key = p.load.type === "concurrent" ? "concurrency" : p.load.type === "constant" || p.load.type === "poisson" ? "rate" : undefined;
  const points = key ? p.load.stages.map((s) => s[key]).join(",") : "";
  return `${p.load.type}${points ? ` ${points}` : ""}`;
}

function runnableBy(p: Profile, harnesses: readonly HarnessDefinition[], missingFeatures: typeof import("../../harness/features.ts").missingFeatures): string {
  return harnesses
    .filter((h) => missingFeatures(p, h.capabilities).length === 0)
    .map((h) => h.name)
    .join(", ");
}

export function registerProfilesCommand(program: Command): void {
  const profiles = program.command("profiles").description("List, show and validate workload profiles");
  profiles
    .command("list")
    .description("List the built-in profiles")
    .action(async () => {
      const { stringify } = await import("yaml");
      const { allHarnesses } = await import("../../harness/registry.ts");
      const { missingFeatures } = await import("../../harness/features.ts");
      const { builtinProfileNames, loadProfile } = await import("../../profile/load.ts");
      const { renderTable } = await import("../../report/table.ts");
      const rows = builtinProfileNames().map((n) => {
        const { profile } = loadProfile(n);
        const d = profile.data;
        const lengths = d.type === "shared_prefix" ? `prefix ${d.shared_prefix!.prefix_tokens}+${d.shared_prefix!.question_tokens}/${d.output_tokens!.mean}` : `${d.input_tokens?.mean ?? "?"}/${d.output_tokens?.mean ?? "?"}`;
        return [n, loadSummary(profile), String(profile.load.stages.length), lengths, runnableBy(profile, allHarnesses(), missingFeatures)];
      });
      console.log(renderTable(["profile", "load", "stages", "in/out tokens", "harnesses"], rows));
    });
  profiles
    .command("show <name|path>")
    .description("Print a profile with defaults filled in (and overrides applied)")
    .option("-o, --override <path=value>", "override a field (repeatable)", collect, [])
    .action(async (name: string, o: { override: string[] }) => {
      const { stringify } = await import("yaml");
      const { allHarnesses } = await import("../../harness/registry.ts");
      const { missingFeatures } = await import("../../harness/features.ts");
      const { builtinProfileNames, loadProfile } = await import("../../profile/load.ts");
      const { renderTable } = await import("../../report/table.ts");
      process.stdout.write(stringify(loadProfile(name, o.override).profile));
    });
  profiles
    .command("validate <files...>")
    .description("Validate profile files, each on its own line; exits 2 if any is invalid, naming its file and field")
    .action(async (files: string[]) => {
      const { stringify } = await import("yaml");
      const { allHarnesses } = await import("../../harness/registry.ts");
      const { missingFeatures } = await import("../../harness/features.ts");
      const { builtinProfileNames, loadProfile } = await import("../../profile/load.ts");
      const { renderTable } = await import("../../report/table.ts");
      let invalid = 0;
      for (const f of files) {
        try {
          const { profile, path } = loadProfile(f);
          console.log(`${path}: valid profile "${profile.name}"`);
        } catch (e) {
          const mistake = isUserError(e) ? e : pathMistake(e);
          if (!mistake) throw e;
          invalid++;
          const named = mistake.message.includes(f) || mistake.message.includes(resolve(f));
          process.stderr.write(`hub: error: ${named ? "" : `${f}: `}${mistake.message}\n`);
        }
      }
      if (invalid > 0) {
        if (files.length > 1) process.stderr.write(`hub: ${invalid} of ${files.length} profiles invalid\n`);
        process.exitCode = 2;
      }
    });
}
