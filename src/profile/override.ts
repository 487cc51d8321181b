import { UserError } from "../errors.ts";

/**
 * Applies `-o path=value` overrides to a parsed (not yet validated) profile document.
 * Paths are dotted with list indexes (`load.stages.0.concurrency`). A path must already exist,
 * except its last key when the parent is an object the schema allows it on: the caller
 * validates the result, so `data.input_tokens.stddev=5` works on a profile that left stddev
 * out, but a misspelt key fails validation as an unknown field instead of being added silently.
 * `path=null` removes an optional field (`load.stages.0.duration_s=null` with `...requests=100`).
 */
export function parseOverride(spec: string): { path: string[]; value: unknown } {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new UserError(`override "${spec}" is not of the form path=value (for example load.stages.0.concurrency=4)`);
  const path = spec.slice(0, eq).split(".");
  if (path.some((p) => p === "")) throw new UserError(`override "${spec}": empty segment in path "${spec.slice(0, eq)}"`);
  const bad = path.find(isPrototypeKey);
  if (bad !== undefined) throw new UserError(`override "${spec}": "${bad}" is not a profile field (a path names profile fields, e.g. load.stages.0.concurrency)`);
  const value = parseValue(spec.slice(eq + 1));
  const hidden = findPrototypeKey(value);
  if (hidden !== undefined) throw new UserError(`override "${spec}": the value's JSON has a "${hidden}" key, which is not a profile field`);
  return { path, value };
}

/** Keys that reach an object's prototype instead of a field: never valid in user input. */
export function isPrototypeKey(key: string): boolean {
  return key === "__proto__" || key === "prototype" || key === "constructor";
}

/** The first prototype key anywhere in a parsed JSON/YAML value, or undefined. */
export function findPrototypeKey(value: unknown): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (isPrototypeKey(k)) return k;
    const inner = findPrototypeKey(v);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

/** Values are YAML-ish scalars: numbers, booleans, null, or JSON for lists and objects. */
function parseValue(raw: string): unknown {
  const t = raw.trim();
  if (t === "true") return true;
  if (t === "false") return false;
  if (t === "null") return null;
  if (t !== "" && !Number.isNaN(Number(t))) return Number(t);
  if (t.startsWith("[") || t.startsWith("{")) {
    try {
      return JSON.parse(t);
    } catch {
      throw new UserError(`override value ${raw} looks like JSON but does not parse`);
    }
  }
  return raw;
}

export function applyOverride(doc: unknown, spec: string): unknown {
  const { path, value } = parseOverride(spec);
  const root = structuredClone(doc);
  let node: unknown = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = child(node, key);
    if (next === undefined || next === null || typeof next !== "object") {
      throw new UserError(`override ${spec}: ${path.slice(0, i + 1).join(".")} does not exist in the profile`);
    }
    node = next;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(node)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i > node.length) {
      throw new UserError(`override ${spec}: index ${last} is out of range (the list has ${node.length} entries)`);
    }
    node[i] = value;
  } else if (value === null) {
    if (!Object.hasOwn(node as object, last)) throw new UserError(`override ${spec}: ${path.join(".")} does not exist in the profile`);
    delete (node as Record<string, unknown>)[last];
  } else {
    (node as Record<string, unknown>)[last] = value;
  }
  return root;
}

function child(node: unknown, key: string): unknown {
  if (Array.isArray(node)) {
    const i = Number(key);
    return Number.isInteger(i) ? node[i] : undefined;
  }
  // Own fields only: an inherited name (toString, hasOwnProperty) is not in the profile.
  return Object.hasOwn(node as object, key) ? (node as Record<string, unknown>)[key] : undefined;
}
