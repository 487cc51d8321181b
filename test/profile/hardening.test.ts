/**
 * Bad profiles as users and attackers write them: every one is a UserError naming the file (and
 * the field where there is one), never a crash, a hang or an impossible value accepted.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.ts";
import { builtinProfileNames, loadProfile, MAX_PROFILE_BYTES, PROFILES_DIR } from "../../src/profile/load.ts";
import { applyOverride } from "../../src/profile/override.ts";
import { mulberry32, type Rng } from "../../src/sim/rng.ts";
import { readFileSync } from "node:fs";

const dir = mkdtempSync(join(tmpdir(), "hub-profile-hardening-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const base = () => parse(readFileSync(join(PROFILES_DIR, "sanity_concurrent.yaml"), "utf8")) as Record<string, unknown>;

function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error("expected a UserError, got success");
}

describe("YAML aliases", () => {
  it("a valid profile repeating one stage through 150 aliases (as PyYAML's safe_dump writes it) loads", () => {
    const stage = "{concurrency: 2, duration_s: 1}";
    const text = `name: repeated\nload:\n  type: concurrent\n  stages:\n    - &s ${stage}\n${Array.from({ length: 150 }, () => "    - *s\n").join("")}data: {type: random, input_tokens: {mean: 8}, output_tokens: {mean: 8}}\n`;
    const { profile } = loadProfile(write("aliases.yaml", text));
    expect(profile.load.stages).toHaveLength(151);
  });

  it("an alias bomb is refused with the limit, not expanded", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const e = userError(() => loadProfile(write("bomb.yaml", lines.join("\n"))));
    expect(e.message).toMatch(/bomb\.yaml: YAML aliases expand too far/);
  });

  it("an unresolved alias names the file", () => {
    const e = userError(() => loadProfile(write("unresolved.yaml", "name: x\nload: *nope\n")));
    expect(e.message).toMatch(/unresolved\.yaml: not valid YAML: .*nope/);
  });
});

describe("files that are not profiles", () => {
  it("a directory, a device, an oversized file", () => {
    const sub = join(dir, "a-dir");
    mkdirSync(sub, { recursive: true });
    expect(userError(() => loadProfile(sub)).message).toMatch(/is a directory/);
    expect(userError(() => loadProfile("/dev/zero")).message).toMatch(/not a regular file/);
    expect(userError(() => loadProfile(write("big.yaml", `name: x\ndescription: "${"a".repeat(MAX_PROFILE_BYTES)}"\n`))).message).toMatch(/at most 1048576 bytes/);
  });

  it("a name too long for a results folder is refused at its field", () => {
    const p = { ...base(), name: "n".repeat(300) };
    expect(userError(() => loadProfile(write("long.yaml", stringify(p)))).message).toMatch(/at name: .*128/);
  });
});

describe("prototype keys", () => {
  it("overrides through __proto__, prototype or constructor are refused and Object.prototype stays clean", () => {
    for (const o of ["__proto__.x=1", "__proto__.hasOwnProperty=1", '__proto__={"limits":{"max_duration_s":7}}', "__proto__=1", "load.constructor.x=1", "data.prototype=1", 'limits={"__proto__":{"x":1}}']) {
      expect(userError(() => loadProfile("sanity_concurrent", [o])).message, o).toMatch(/not a profile field/);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    expect(Object.prototype.hasOwnProperty).toBeTypeOf("function");
  });

  it("an inherited name is not a field", () => {
    expect(userError(() => applyOverride(base(), "limits.toString=null")).message).toMatch(/does not exist/);
  });

  it("a __proto__ key in the YAML is an unknown field, not a prototype", () => {
    const e = userError(() => loadProfile(write("proto.yaml", `${stringify(base())}__proto__: {limits: {max_duration_s: 7}}\n`)));
    expect(e.message).toMatch(/__proto__/);
    expect(({} as Record<string, unknown>).limits).toBeUndefined();
  });
});

/** Values that break a field: wrong types, out of range, absurd, hostile. */
const BAD_VALUES: unknown[] = [-1, 0, 0.5, -0.0001, 1e308, -1e308, 1e18, Number.MAX_SAFE_INTEGER * 4, "abc", "", "1; rm -rf /", null, [], {}, true, [1, 2], { nested: { deep: 1 } }, "__proto__", "x".repeat(5000)];

function leafPaths(node: unknown, prefix: string[] = []): string[][] {
  if (node === null || typeof node !== "object") return [prefix];
  const entries = Array.isArray(node) ? node.map((v, i) => [String(i), v] as const) : Object.entries(node);
  return [prefix, ...entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]))];
}

function setAt(doc: unknown, path: string[], value: unknown, rng: Rng): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string, unknown>;
  if (copy === null || typeof copy !== "object") return copy;
  let node: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) {
    const next = node[k];
    if (next === null || typeof next !== "object") return copy; // an earlier mutation replaced this branch
    node = next as Record<string, unknown>;
  }
  const last = path.at(-1)!;
  const action = rng();
  if (action < 0.1) delete node[last];
  else if (action < 0.2) node[`${last}_typo`] = value;
  else node[last] = value;
  return copy;
}

/** Invariants every accepted profile must hold: the values are ones a workload can have. */
function checkAccepted(p: ReturnType<typeof loadProfile>["profile"]): void {
  for (const s of p.load.stages) {
    for (const k of ["concurrency", "rate", "duration_s", "requests"] as const) {
      const v = s[k];
      if (v !== undefined) expect(Number.isFinite(v) && v > 0 && v <= 1e9, `${k}=${v}`).toBe(true);
    }
  }
  for (const d of [p.data.input_tokens, p.data.output_tokens]) {
    if (!d) continue;
    expect(Number.isInteger(d.mean) && d.mean > 0 && d.mean <= 10_000_000, `mean ${d.mean}`).toBe(true);
    expect(d.stddev >= 0 && d.stddev <= 10_000_000).toBe(true);
  }
  expect(p.name.length).toBeLessThanOrEqual(128);
}

describe("a generated corpus of malformed profiles", () => {
  it("1,000+ mutations of the built-in profiles: each refused with a UserError naming the file, or a sound profile", () => {
    const rng = mulberry32(20261204);
    const counts = { refused: 0, accepted: 0, other: 0 };
    const docs = builtinProfileNames().map((n) => parse(readFileSync(join(PROFILES_DIR, `${n}.yaml`), "utf8")) as unknown);
    for (let i = 0; i < 1100; i++) {
      const doc = docs[i % docs.length]!;
      const paths = leafPaths(doc);
      let mutated: unknown = doc;
      const n = 1 + Math.floor(rng() * 3);
      for (let m = 0; m < n; m++) mutated = setAt(mutated, paths[Math.floor(rng() * paths.length)]!, BAD_VALUES[Math.floor(rng() * BAD_VALUES.length)], rng);
      // Every tenth as raw text damage instead: truncated or with a stray character.
      const text = i % 10 === 0 ? stringify(doc).slice(0, Math.floor(rng() * 200)) + (i % 20 === 0 ? ":\n  - [" : "") : stringify(mutated);
      const file = write(`corpus-${i}.yaml`, text);
      try {
        checkAccepted(loadProfile(file).profile);
        counts.accepted++;
      } catch (e) {
        if (e instanceof UserError && e.message.includes(file)) counts.refused++;
        else {
          counts.other++;
          throw new Error(`corpus-${i}.yaml: ${String(e)}\n${text}`);
        }
      }
    }
    console.log(`malformed-profile corpus: ${counts.refused} refused with exit-2 errors, ${counts.accepted} still valid (mutations that kept the profile sound), ${counts.other} crashes`);
    expect(counts.other).toBe(0);
    expect(counts.refused).toBeGreaterThanOrEqual(1000);
  });
});
