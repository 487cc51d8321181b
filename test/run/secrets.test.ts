/**
 * An API key reaches the harness (through OPENAI_API_KEY, the way hub supports) and appears
 * nowhere hub writes: not the terminal, run.json, logs or any other file of the results folder,
 * even when the harness prints it.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";

const HUB = new URL("../../bin/hub.js", import.meta.url).pathname;
const LEAKY = new URL("../fixtures/harness/leaky/", import.meta.url).pathname;
const SECRET = "sk-hub-test-9f8e7d6c5b4a";

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

describe("secrets", () => {
  it("OPENAI_API_KEY reaches the harness and no file, log or line of output", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "hub-secrets-")), "run");
    const r = await execa("node", [HUB, "--plugin", LEAKY, "run", "--harness", "leaky", "--profile", "sanity_concurrent", "-o", "load.stages.0.duration_s=null", "-o", "load.stages.0.requests=2", "-o", "data.output_tokens.mean=4", "--out", out], {
      reject: false,
      timeout: 60_000,
      env: { OPENAI_API_KEY: SECRET },
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const terminal = `${r.stdout}\n${r.stderr}`;
    // The harness got the key (it printed its length), and printed it, redacted.
    expect(terminal).toMatch(new RegExp(`key length ${SECRET.length}`));
    expect(terminal).toMatch(/using api key <redacted>/);
    expect(terminal).not.toContain(SECRET);
    const files = filesUnder(out);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(expect.arrayContaining(["run.json", "metrics.json", "native/stdout.log", "native/stderr.log"]));
    for (const f of files) expect(readFileSync(f, "utf8"), f).not.toContain(SECRET);
    expect(readFileSync(join(out, "native", "stderr.log"), "utf8")).toMatch(/Bearer <redacted>/);
  }, 60_000);
});
