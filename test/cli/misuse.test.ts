/**
 * The CLI misuse cases users hit: each exits 2 with one message that names the file or flag and
 * what is allowed, with no stack trace, in bounded time.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const HUB = new URL("../../bin/hub.js", import.meta.url).pathname;
const RUN_FIXTURE = new URL("../fixtures/runs/guidellm-sanity_concurrent/", import.meta.url).pathname;
const GUIDELLM_OUTPUT = new URL("../fixtures/guidellm/0.8.1/sanity_concurrent/", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "hub-misuse-"));
const STACK = /^\s+at .+[(:]\d+/m;

async function hub(args: string[], env: Record<string, string> = {}) {
  const r = await execa("node", [HUB, ...args], { cwd: dir, reject: false, timeout: 20_000, env: { HUB_DEBUG: "", ...env } });
  return { code: r.exitCode, out: String(r.stdout), err: String(r.stderr), timedOut: r.timedOut };
}

async function mistake(args: string[], message: RegExp) {
  const r = await hub(args);
  expect(r.timedOut, `${args.join(" ")} hung`).toBe(false);
  expect(r.err, args.join(" ")).not.toMatch(STACK);
  expect(r.err, args.join(" ")).toMatch(message);
  expect(r.code, `${args.join(" ")}\n${r.err}`).toBe(2);
  return r;
}

let server: Server;
let badModelsUrl = "";
beforeAll(async () => {
  writeFileSync(join(dir, "a-file"), "x");
  mkdirSync(join(dir, "a-dir"));
  writeFileSync(join(dir, "ok.yaml"), readFileSync(new URL("../../profiles/sanity_concurrent.yaml", import.meta.url), "utf8"));
  writeFileSync(join(dir, "unresolved.yaml"), "name: x\nload: *nope\n");
  // A server whose /v1/models answers with `data` that is not a list of objects.
  server = createServer((_req, res) => res.end(JSON.stringify({ object: "list", data: 5 })));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  badModelsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("CLI misuse: exit 2, one message, no stack", () => {
  it("batch validation names each bad file and still checks the rest", async () => {
    const r = await mistake(["profiles", "validate", "unresolved.yaml", "ok.yaml", "a-dir"], /unresolved\.yaml: not valid YAML/);
    expect(r.err).toMatch(/a-dir: is a directory/);
    expect(r.err).toMatch(/2 of 3 profiles invalid/);
    expect(r.out).toMatch(/ok\.yaml: valid profile/);
  });

  it("profile paths that are not files, without hanging", async () => {
    await mistake(["run", "--harness", "guidellm", "--profile", "a-dir"], /a-dir: is a directory; a profile is a YAML file/);
    await mistake(["run", "--harness", "guidellm", "--profile", "/dev/zero"], /\/dev\/zero: not a regular file/);
  });

  it("an empty --target is a mistake, not a request for the simulator", async () => {
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--target", ""], /--target is empty/);
  });

  it("--out that is a file, lies under a file, or cannot be created", async () => {
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--out", "a-file"], /--out a-file: is a file; --out names a directory/);
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--out", "a-file/sub"], /--out a-file\/sub: .*not a directory/);
    // Root may write anywhere else; /proc and /sys refuse even root (and Node's own mkdir -p loops for ever under /proc).
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--out", "/proc/hub-cannot-write-here"], /--out \/proc\/hub-cannot-write-here: cannot be used as a directory/);
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--out", "/sys/hub-cannot-write-here/run"], /--out \/sys\/hub-cannot-write-here\/run: cannot be used as a directory: .*not permitted/);
  });

  it("convert and compare --out naming a directory; export --out naming a file", async () => {
    await mistake(["convert", "--harness", "guidellm", GUIDELLM_OUTPUT, "--out", "a-dir"], /--out a-dir: is a directory; --out names a file/);
    await mistake(["compare", RUN_FIXTURE, "--out", "a-dir"], /--out a-dir: is a directory/);
    await mistake(["export", "--format", "br-v0.2", RUN_FIXTURE, "--out", "a-file"], /--out a-file: is a file; --out names a directory/);
  });

  it("a profile name too long for a folder name is refused at its field", async () => {
    writeFileSync(join(dir, "long.yaml"), readFileSync(join(dir, "ok.yaml"), "utf8").replace(/^name: .*$/m, `name: ${"n".repeat(300)}`));
    await mistake(["run", "--harness", "guidellm", "--profile", "long.yaml"], /at name: .*128/);
  });

  it("a /v1/models answer whose data is not a list of models", async () => {
    await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--target", badModelsUrl, "--out", "models-run"], /lists no models at \/v1\/models; pass --model/);
    expect(JSON.parse(readFileSync(join(dir, "models-run", "run.json"), "utf8")).status).toBe("failed");
  });

  it("prototype keys through -o", async () => {
    for (const o of ["__proto__.x=1", "__proto__.hasOwnProperty=1", '__proto__={"limits":{"max_duration_s":7}}', "__proto__=1"]) {
      await mistake(["profiles", "show", "sanity_concurrent", "-o", o], /not a profile field/);
    }
  });

  it("credentials in --target are refused and never echoed", async () => {
    const r1 = await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--target", "http://user:PASSWORD1234@127.0.0.1:9/", "--out", "cred-run"], /credentials in the URL are not accepted.*OPENAI_API_KEY/);
    const r2 = await mistake(["run", "--harness", "guidellm", "--profile", "ok.yaml", "--target", "http://127.0.0.1:9/?api_key=SECRET5678", "--out", "cred-run"], /"api_key" looks like a credential/);
    for (const r of [r1, r2]) expect(`${r.out}${r.err}`).not.toMatch(/PASSWORD1234|SECRET5678/);
  });

  it("a damaged run.json beside a run given to export loses only itself", async () => {
    const run = join(dir, "damaged-run");
    cpSync(RUN_FIXTURE, run, { recursive: true });
    writeFileSync(join(run, "run.json"), JSON.stringify({ commands: 5, target_is_simulator: "yes" }));
    const r = await hub(["export", "--format", "br-v0.2", run, "--out", join(dir, "br")]);
    expect(r.err).not.toMatch(STACK);
    expect(r.err).toMatch(/run\.json is damaged/);
    expect(r.code).toBe(0);
  });
});
