import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { UserError } from "../errors.ts";
import { z } from "zod";
import { Metrics } from "../metrics/schema.ts";

/** One run as the reports see it: its metrics plus whatever run facts sit beside them. */
export interface LoadedRun {
  /** As the user named it (or `<dir>/<sub>` for runs found in a directory of runs), for display. */
  path: string;
  /** The run directory, or null for a bare metrics.json given by a path that is not in one. */
  dir: string | null;
  metrics: Metrics;
  /** profile.resolved.yaml, parsed; null when absent (a converted metrics.json). */
  profile: Record<string, unknown> | null;
  /** The raw text of profile.resolved.yaml, for hashing in exports. */
  profileText: string | null;
  /** run.json, parsed; null when absent. */
  runRecord: RunRecord | null;
}

/** The run.json fields the reports read, checked loosely: a damaged run.json loses only itself. */
const RunRecordShape = z.looseObject({
  run_id: z.string().optional(),
  status: z.string().optional(),
  target: z.string().optional(),
  target_is_simulator: z.boolean().optional(),
  model: z.string().optional(),
  profile: z.looseObject({ name: z.string().optional(), overrides: z.array(z.string()).optional() }).optional(),
  commands: z.array(z.looseObject({ argv: z.array(z.string()).optional(), stage: z.number().optional() })).optional(),
  harness: z.looseObject({ name: z.string().optional(), pinned_version: z.string().optional(), installed_version: z.string().nullable().optional() }).optional(),
  hub_version: z.string().optional(),
});

/** The few run.json fields the reports read; run.json holds more. */
export interface RunRecord {
  run_id?: string;
  status?: string;
  target?: string;
  target_is_simulator?: boolean;
  model?: string;
  profile?: { name?: string; overrides?: string[] };
  commands?: { argv?: string[]; stage?: number }[];
  harness?: { name?: string; pinned_version?: string; installed_version?: string | null };
  hub_version?: string;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new UserError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

function readRunRecord(path: string): RunRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    process.stderr.write(`hub: warning: ${displayPath(path)} is not valid JSON (${(e as Error).message}); the run's facts from it are left out\n`);
    return null;
  }
  const parsed = RunRecordShape.safeParse(raw);
  if (parsed.success) return parsed.data as RunRecord;
  const issue = parsed.error.issues[0]!;
  process.stderr.write(`hub: warning: ${displayPath(path)} is damaged (at ${issue.path.join(".") || "(root)"}: ${issue.message}); the run's facts from it are left out\n`);
  return null;
}

function loadMetricsFile(file: string, shown: string): Metrics {
  const parsed = Metrics.safeParse(readJson(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UserError(`${shown} is not a hub metrics.json: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

function loadRunAt(metricsFile: string, shown: string): LoadedRun {
  const dir = dirname(metricsFile);
  const isRunDir = basename(metricsFile) === "metrics.json";
  const side = (name: string) => (isRunDir && existsSync(join(dir, name)) ? join(dir, name) : null);
  const profilePath = side("profile.resolved.yaml");
  const runPath = side("run.json");
  const profileText = profilePath ? readFileSync(profilePath, "utf8") : null;
  let profile: Record<string, unknown> | null = null;
  if (profileText !== null) {
    try {
      const p = parseYaml(profileText) as unknown;
      profile = p && typeof p === "object" ? (p as Record<string, unknown>) : null;
    } catch {
      profile = null; // a damaged sidecar loses only the profile comparison, not the run
    }
  }
  return {
    path: shown,
    dir: isRunDir ? dir : null,
    metrics: loadMetricsFile(metricsFile, shown),
    profile,
    profileText,
    runRecord: runPath ? readRunRecord(runPath) : null,
  };
}

/**
 * A run directory, a metrics.json, or a directory of run directories (every direct
 * subdirectory holding a metrics.json, in name order). Mistakes are UserErrors naming the path.
 */
export function loadRuns(inputs: readonly string[], warn: (message: string) => void = () => {}): LoadedRun[] {
  const runs: LoadedRun[] = [];
  for (const input of inputs) {
    const abs = resolve(input);
    if (!existsSync(abs)) throw new UserError(`${input} does not exist`);
    if (statSync(abs).isFile()) {
      runs.push(loadRunAt(abs, input));
      continue;
    }
    if (existsSync(join(abs, "metrics.json"))) {
      runs.push(loadRunAt(join(abs, "metrics.json"), input));
      continue;
    }
    const dirs = readdirSync(abs, { withFileTypes: true }).filter((d) => d.isDirectory());
    const subs = dirs
      .filter((d) => existsSync(join(abs, d.name, "metrics.json")))
      .map((d) => d.name)
      .sort();
    // A run that failed before writing metrics is worth a word, not a silent gap in the report.
    for (const d of dirs) {
      if (!subs.includes(d.name) && existsSync(join(abs, d.name, "run.json"))) warn(`skipped ${join(input, d.name)}: no metrics.json (see its run.json and native/ logs)`);
    }
    if (subs.length === 0) {
      const hint = existsSync(join(abs, "run.json")) ? " (it has a run.json: the run wrote no metrics, see its run.json and native/ logs)" : "";
      throw new UserError(`${input} holds no metrics.json, nor run directories with one${hint}`);
    }
    for (const s of subs) runs.push(loadRunAt(join(abs, s, "metrics.json"), join(input, s)));
  }
  return runs;
}

/** A path shown relative to the working directory when that is shorter. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith("..") && rel.length < p.length ? rel : p;
}
