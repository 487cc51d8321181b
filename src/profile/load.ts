import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { UserError } from "../errors.ts";
import { applyOverride } from "./override.ts";
import { Profile } from "./schema.ts";

export const PROFILES_DIR = fileURLToPath(new URL("../../profiles/", import.meta.url));

export function builtinProfileNames(): string[] {
  return readdirSync(PROFILES_DIR)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => basename(f, ".yaml"))
    .sort();
}

/** A built-in name (`sanity_concurrent`) or a path to a YAML file. */
export function resolveProfilePath(nameOrPath: string): string {
  if (nameOrPath.includes("/") || extname(nameOrPath) === ".yaml" || extname(nameOrPath) === ".yml") {
    const p = resolve(nameOrPath);
    if (!existsSync(p)) throw new UserError(`profile file ${nameOrPath} does not exist`);
    return p;
  }
  const p = join(PROFILES_DIR, `${nameOrPath}.yaml`);
  if (!existsSync(p)) {
    throw new UserError(`unknown profile "${nameOrPath}". Built-in profiles: ${builtinProfileNames().join(", ")}; or pass a path to a YAML file`);
  }
  return p;
}

export interface LoadedProfile {
  profile: Profile;
  path: string;
}

/** Reads, overrides and validates a profile; every mistake is a UserError naming file and field. */
export function loadProfile(nameOrPath: string, overrides: readonly string[] = []): LoadedProfile {
  const path = resolveProfilePath(nameOrPath);
  const doc = parseDocument(readFileSync(path, "utf8"), { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new UserError(`${path}: not valid YAML: ${doc.errors[0]!.message}`);
  }
  let data: unknown = doc.toJS();
  for (const o of overrides) data = applyOverride(data, o);
  return { profile: validateProfile(data, path, overrides), path };
}

export function validateProfile(data: unknown, source: string, overrides: readonly string[] = []): Profile {
  const result = Profile.safeParse(data);
  if (result.success) return result.data;
  const via = overrides.length > 0 ? ` (after overrides ${overrides.join(", ")})` : "";
  throw new UserError(`${source}: invalid profile${via}\n${formatIssues(result.error.issues)}`);
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((i) => `  at ${formatPath(i.path)}: ${describeIssue(i)}`).join("\n");
}

export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "(top level)";
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_value":
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_type":
      return issue.message.replace(/^Invalid input: /, "");
    default:
      return issue.message;
  }
}
