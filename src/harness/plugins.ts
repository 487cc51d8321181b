import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { z } from "zod";
import { configDir, readHubConfig } from "../config.ts";
import type { HarnessDefinition } from "./contract.ts";
import { ALL_FEATURES } from "./features.ts";

/** The shape a plugin's default export must have; checked before it is registered. */
const PluginShape = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "lower-case letters, digits, '-' and '_'"),
  description: z.string(),
  version: z.string().min(1),
  install: z.object({ kind: z.literal("pip"), distribution: z.string(), packages: z.array(z.string()), torch: z.boolean().optional(), python: z.string().optional() }),
  capabilities: z.array(z.enum(ALL_FEATURES as [string, ...string[]])),
  translate: z.function(),
  converter: z.object({ knownVersions: z.array(z.string()), convert: z.function() }),
});

export { CONFIG_FILE } from "../config.ts";

export interface PluginSpec {
  /** As written by the user. */
  spec: string;
  /** Directory relative paths are resolved from. */
  base: string;
}

export type PluginLoad =
  | { kind: "ok"; spec: string; harness: HarnessDefinition }
  | { kind: "failed"; spec: string; reason: string };

/** Plugin specs from ./hub.config.yaml, if there is one. */
export function configPlugins(cwd = process.cwd()): PluginSpec[] {
  const loaded = readHubConfig(cwd);
  return loaded.config.plugins.map((spec) => ({ spec, base: configDir(loaded) }));
}

function resolveSpec({ spec, base }: PluginSpec): string {
  const looksLikePath = spec.startsWith(".") || isAbsolute(spec);
  if (looksLikePath) {
    const p = resolve(base, spec);
    const entry = ["index.ts", "index.js"].map((f) => resolve(p, f)).find((f) => existsSync(f));
    return pathToFileURL(entry ?? p).href;
  }
  // An npm package, resolved from where the config lives.
  return pathToFileURL(createRequire(resolve(base, "noop.js")).resolve(spec)).href;
}

/** Loads each plugin on its own: one that fails is reported by name, the others still load. */
export async function loadPlugins(specs: readonly PluginSpec[], taken: ReadonlySet<string>): Promise<PluginLoad[]> {
  const names = new Set(taken);
  const results: PluginLoad[] = [];
  for (const s of specs) {
    try {
      const mod = (await import(resolveSpec(s))) as { default?: unknown };
      const checked = PluginShape.safeParse(mod.default);
      if (!checked.success) {
        const issues = checked.error.issues.map((i) => `${i.path.join(".") || "default export"}: ${i.message}`).join("; ");
        results.push({ kind: "failed", spec: s.spec, reason: `its default export is not a harness definition (${issues})` });
        continue;
      }
      const harness = mod.default as HarnessDefinition;
      if (names.has(harness.name)) {
        results.push({ kind: "failed", spec: s.spec, reason: `a harness named "${harness.name}" is already registered` });
        continue;
      }
      names.add(harness.name);
      results.push({ kind: "ok", spec: s.spec, harness });
    } catch (e) {
      results.push({ kind: "failed", spec: s.spec, reason: (e as Error).message.split("\n")[0]! });
    }
  }
  return results;
}
