import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../src/errors.ts";
import { builtinProfileNames, loadProfile } from "../../src/profile/load.ts";

function file(content: string): string {
  const p = join(mkdtempSync(join(tmpdir(), "hub-profile-")), "p.yaml");
  writeFileSync(p, content);
  return p;
}

const error = (f: () => unknown): UserError => {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("expected a UserError");
};

describe("built-in profiles", () => {
  it("ships the seven harness-neutral profiles, all valid", () => {
    expect(builtinProfileNames()).toEqual([
      "chatbot_synthetic",
      "code_completion_synthetic",
      "random_concurrent",
      "sanity_concurrent",
      "sanity_random",
      "shared_prefix_synthetic",
      "summarization_synthetic",
    ]);
    for (const n of builtinProfileNames()) expect(loadProfile(n).profile.name).toBe(n);
  });

  it("sanity_concurrent is 2 streams for 30 s with 256 in / 128 out", () => {
    const { profile } = loadProfile("sanity_concurrent");
    expect(profile.load).toMatchObject({ type: "concurrent", stages: [{ concurrency: 2, duration_s: 30 }] });
    expect(profile.data.input_tokens?.mean).toBe(256);
    expect(profile.data.output_tokens?.mean).toBe(128);
  });
});

describe("loadProfile errors", () => {
  it("an unknown name lists the valid ones", () => {
    expect(error(() => loadProfile("nope")).message).toMatch(/unknown profile "nope".*sanity_concurrent/);
  });

  it("names the file, the field path and what is allowed", () => {
    const p = file("name: bad\nload:\n  type: concurrentt\n  stages: [{concurrency: 2, duration_s: 5}]\ndata: {type: random, input_tokens: {mean: 5}, output_tokens: {mean: 5}}\n");
    const m = error(() => loadProfile(p)).message;
    expect(m).toContain(p);
    expect(m).toContain("at load.type");
    expect(m).toContain('"concurrent"');
  });

  it("reports an unknown field instead of ignoring it", () => {
    const p = file("name: bad\nlod: 1\nload: {type: concurrent, stages: [{concurrency: 2, duration_s: 5}]}\ndata: {type: random, input_tokens: {mean: 5}, output_tokens: {mean: 5}}\n");
    expect(error(() => loadProfile(p)).message).toMatch(/unknown field "lod"/);
  });

  it("checks that a stage fits its load type", () => {
    const p = file("name: bad\nload: {type: constant, stages: [{concurrency: 2, duration_s: 5}]}\ndata: {type: random, input_tokens: {mean: 5}, output_tokens: {mean: 5}}\n");
    const m = error(() => loadProfile(p)).message;
    expect(m).toContain("at load.stages[0].rate: load type constant needs rate");
  });

  it("reports YAML syntax errors with the file", () => {
    const p = file("name: [unclosed\n");
    expect(error(() => loadProfile(p)).message).toMatch(/not valid YAML/);
  });
});

describe("overrides", () => {
  it("sets a list element by index and validates the result", () => {
    const { profile } = loadProfile("sanity_concurrent", ["load.stages.0.concurrency=4", "load.stages.0.duration_s=10"]);
    expect(profile.load.stages[0]).toEqual({ concurrency: 4, duration_s: 10 });
  });

  it("may set an optional field the profile left out", () => {
    expect(loadProfile("sanity_concurrent", ["data.input_tokens.stddev=5"]).profile.data.input_tokens?.stddev).toBe(5);
  });

  it("an unknown path is an error, not silently added", () => {
    expect(error(() => loadProfile("sanity_concurrent", ["load.stages.0.concurency=4"])).message).toMatch(/unknown field "concurency"/);
    expect(error(() => loadProfile("sanity_concurrent", ["load.stages.5.concurrency=4"])).message).toMatch(/out of range|does not exist/);
    expect(error(() => loadProfile("sanity_concurrent", ["nothing.here=1"])).message).toMatch(/nothing does not exist/);
  });

  it("a value of the wrong type fails validation with the path", () => {
    expect(error(() => loadProfile("sanity_concurrent", ["load.stages.0.concurrency=many"])).message).toMatch(/load.stages\[0\].concurrency/);
  });

  it("a malformed override says what form it takes", () => {
    expect(error(() => loadProfile("sanity_concurrent", ["concurrency"])).message).toMatch(/path=value/);
  });
});
