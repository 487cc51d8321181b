import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";

/**
 * Shared helpers for converters: find a harness's output file, read it as JSON, check it against
 * the converter's schema of the native fields it reads, and explain any failure in one line that
 * names the file, the field and the harness version the converter expects. Never throws.
 */

export type NativeRead<T> = { kind: "ok"; file: string; data: T } | { kind: "failed"; reason: string };

export interface NativeExpectation {
  /** Harness name and the version the converter was written for, e.g. "guidellm 0.8.1". */
  expected: string;
  /** Reads the harness version from the parsed document, when it carries one. */
  versionOf?: (data: unknown) => string | null | undefined;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const compiled = new WeakMap<object, ValidateFunction>();

function validatorFor(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

/** "/benchmarks/0/requests" → "benchmarks[0].requests" */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (child !== undefined) parts.push(child);
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === "" ? p : `.${p}`;
  return out === "" ? "(document root)" : out;
}

function describeError(e: ErrorObject): string {
  if (e.keyword === "required") return `field "${fieldPath(e.instancePath, String(e.params["missingProperty"]))}" missing`;
  const where = `field "${fieldPath(e.instancePath)}"`;
  if (e.keyword === "type") return `${where} must be ${String(e.params["type"]).replace(",", " or ")}`;
  if (e.keyword === "enum") return `${where} must be one of ${(e.params["allowedValues"] as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
  return `${where} ${e.message ?? "is invalid"}`;
}

function foundVersion(data: unknown, exp: NativeExpectation): string {
  try {
    const v = exp.versionOf?.(data);
    return typeof v === "string" && v !== "" ? v : "unknown";
  } catch {
    return "unknown";
  }
}

/**
 * The file to read: `nativePath` itself when it is a file, else `nativePath/defaultName`.
 */
export async function resolveNativeFile(nativePath: string, defaultName: string): Promise<NativeRead<undefined>> {
  try {
    const s = await stat(nativePath);
    const file = s.isDirectory() ? join(nativePath, defaultName) : nativePath;
    if (file !== nativePath) {
      const f = await stat(file).catch(() => undefined);
      if (!f?.isFile()) return { kind: "failed", reason: `${file}: not found (the harness wrote no ${defaultName})` };
    }
    return { kind: "ok", file, data: undefined };
  } catch {
    return { kind: "failed", reason: `${nativePath}: not found` };
  }
}

/** Reads a JSON file and validates it against `schema`. */
export async function readNativeJson<T>(file: string, schema: object, exp: NativeExpectation): Promise<NativeRead<T>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    return { kind: "failed", reason: `${file}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { kind: "failed", reason: `${file}: not valid JSON (${(e as Error).message}; ${exp.expected} output expected)` };
  }
  const validate = validatorFor(schema);
  if (!validate(data)) {
    const first = validate.errors?.[0];
    const what = first ? describeError(first) : "does not match the expected structure";
    return { kind: "failed", reason: `${file}: ${what} (${exp.expected} output expected; found version ${foundVersion(data, exp)})` };
  }
  return { kind: "ok", file, data: data as T };
}

/** A warning when the output's version is not one the converter was checked against. */
export function versionWarning(harness: string, knownVersions: readonly string[], found: string | null | undefined): string | undefined {
  if (found === null || found === undefined || found === "") {
    return `${harness} output does not say which version wrote it; the converter was checked against ${knownVersions.join(", ")}`;
  }
  if (knownVersions.includes(found)) return undefined;
  return `${harness} output was written by version ${found}; the converter was checked against ${knownVersions.join(", ")} only, so fields may have changed meaning`;
}
