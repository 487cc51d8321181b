import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
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
  const builtin = join(PROFILES_DIR, `${nameOrPath}.yaml`);
  const looksLikePath = nameOrPath.includes("/") || extname(nameOrPath) === ".yaml" || extname(nameOrPath) === ".yml";
  if (looksLikePath || (!existsSync(builtin) && existsSync(nameOrPath))) {
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

/** A profile is a few hundred bytes; anything past this is not one (or is an attack). */
export const MAX_PROFILE_BYTES = 1024 * 1024;
/** Alias expansions allowed while building the document: room for repeated stages, not for a billion laughs. */
export const MAX_ALIAS_COUNT = 1000;

/** Reads, overrides and validates a profile; every mistake is a UserError naming file and field. */
export function loadProfile(nameOrPath: string, overrides: readonly string[] = []): LoadedProfile {
  const path = resolveProfilePath(nameOrPath);
  let data = parseYamlFile(path, "profile");
  for (const o of overrides) data = applyOverride(data, o);
  return { profile: validateProfile(data, path, overrides), path };
}

/**
 * Reads a small YAML file the user wrote (a profile, an experiment): a regular file of at most
 * MAX_PROFILE_BYTES, parsed with bounded alias expansion. Every problem is a UserError naming it.
 */
export function parseYamlFile(path: string, what: string): unknown {
  const st = statSync(path);
  if (st.isDirectory()) throw new UserError(`${path}: is a directory; a ${what} is a YAML file`);
  if (!st.isFile()) throw new UserError(`${path}: not a regular file (a device or pipe); a ${what} is a YAML file`);
  if (st.size > MAX_PROFILE_BYTES) throw new UserError(`${path}: ${st.size} bytes; a ${what} file may be at most ${MAX_PROFILE_BYTES} bytes`);
  const text = readBounded(path, MAX_PROFILE_BYTES);
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new UserError(`${path}: not valid YAML: ${doc.errors[0]!.message}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    const msg = (e as Error).message;
    if (/Excessive alias count/.test(msg)) {
      throw new UserError(`${path}: YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias resolutions); write the repeated parts out or use fewer aliases`);
    }
    throw new UserError(`${path}: not valid YAML: ${msg}`);
  }
}

/** Reads at most `limit` bytes, so a file that grows while read (or lies about its size) cannot hang hub. */
function readBounded(path: string, limit: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(limit + 1);
    let n = 0;
    for (let r = 1; r > 0 && n <= limit; n += r) r = readSync(fd, buf, n, limit + 1 - n, null);
    if (n > limit) throw new UserError(`${path}: more than ${limit} bytes; a YAML file here may be at most ${limit} bytes`);
    return buf.toString("utf8", 0, n);
  } finally {
    closeSync(fd);
  }
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
