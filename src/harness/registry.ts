import { builtinHarnesses } from "../../harnesses/index.ts";
import { UserError } from "../errors.ts";
import type { HarnessDefinition } from "./contract.ts";
import { type Feature, FEATURES, missingFeatures } from "./features.ts";
import type { Profile } from "../profile/schema.ts";

let plugins: readonly HarnessDefinition[] = [];

/** Built-in harnesses, then plugins registered with `registerPlugins`. */
export function allHarnesses(): readonly HarnessDefinition[] {
  return [...builtinHarnesses, ...plugins];
}

export function builtinNames(): Set<string> {
  return new Set(builtinHarnesses.map((h) => h.name));
}

export function registerPlugins(loaded: readonly HarnessDefinition[]): void {
  plugins = [...loaded];
}

export function getHarness(name: string): HarnessDefinition {
  const h = allHarnesses().find((x) => x.name === name);
  if (!h) throw new UserError(`unknown harness "${name}". Known harnesses: ${allHarnesses().map((x) => x.name).join(", ")}`);
  return h;
}

/** Refuses, before anything runs, a profile the harness cannot express; names who can. */
export function checkCapabilities(harness: HarnessDefinition, profile: Profile): void {
  const missing = missingFeatures(profile, harness.capabilities);
  if (missing.length === 0) return;
  const able = allHarnesses()
    .filter((h) => missingFeatures(profile, h.capabilities).length === 0)
    .map((h) => h.name);
  const list = missing.map((f: Feature) => `${f} (${FEATURES[f]})`).join(", ");
  throw new UserError(
    `harness ${harness.name} cannot express profile ${profile.name}: it does not support ${list}. ` +
      (able.length > 0 ? `Harnesses that can: ${able.join(", ")}.` : "No installed harness can run this profile as written."),
  );
}
