/**
 * The Docker runtime against a real engine, with a stand-in harness image (test/fixtures/docker/
 * fake-harness: Python from the base image, no pip) so that every case takes seconds.
 *
 * An engine is found through DOCKER_HOST (`.ci/run` starts one with scripts/docker-engine.sh).
 * Without one these tests are skipped on a developer machine, with the reason, and fail in CI.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HarnessDefinition } from "../../src/harness/contract.ts";
import { Metrics } from "../../src/metrics/schema.ts";
import { runBenchmark } from "../../src/run/run.ts";
import { buildImage } from "../../src/runtime/docker/build.ts";
import { BuildProgress, describeFailure } from "../../src/runtime/docker/progress.ts";
import { runContainer, type ContainerRunOptions } from "../../src/runtime/docker/container.ts";
import { connect, LABELS } from "../../src/runtime/docker/engine.ts";
import { gc } from "../../src/runtime/docker/gc.ts";
import { createDockerRuntime, referencedHostFiles } from "../../src/runtime/docker/index.ts";
import { createRuntime } from "../../src/runtime/index.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { dockerSuite } from "../fixtures/docker/suite.ts";
import { fakeHarness } from "../fixtures/harness/fake.ts";
import { execa } from "execa";
import { HUB, hub } from "../e2e/helpers.ts";

const FAKE_DIR = fileURLToPath(new URL("../fixtures/docker/fake-harness/", import.meta.url));
const FAKE_IMAGE = "hub-test/fake-harness:1";
const { skip, title } = await dockerSuite("docker runtime against a real engine");

/** The base image the test images build FROM: $HUB_DOCKER_BASE_IMAGE, a local hub-base, else the Dockerfile's default. */
async function testBaseImage(docker: Docker): Promise<string | undefined> {
  if (process.env.HUB_DOCKER_BASE_IMAGE) return process.env.HUB_DOCKER_BASE_IMAGE;
  for (const ref of ["hub-base:trixie", "hub-base:bookworm"]) {
    if (await docker.getImage(ref).inspect().then(() => true, () => false)) return ref;
  }
  return undefined;
}

const tempDir = (name: string) => mkdtempSync(join(tmpdir(), `hub-docker-${name}-`));

describe.skipIf(skip)(title, () => {
  let docker: Docker;
  let base: string | undefined;
  const runId = `test-${process.pid}-${Date.now()}`;

  /** Containers hub made for this test file, by label. */
  const ours = async () => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.runId}=${runId}`] }) });

  const run = (argv: string[], extra: Partial<ContainerRunOptions> = {}) => {
    const dir = tempDir("run");
    return runContainer({
      image: FAKE_IMAGE,
      argv: ["fake-harness", ...argv],
      labels: { [LABELS.runId]: runId, [LABELS.harness]: "fake" },
      mounts: [{ host: dir, container: "/results" }],
      workingDir: "/results",
      stdoutLog: join(dir, "stdout.log"),
      stderrLog: join(dir, "stderr.log"),
      ...extra,
    }).then((result) => ({ result, dir, stdout: readFileSync(join(dir, "stdout.log"), "utf8"), stderr: readFileSync(join(dir, "stderr.log"), "utf8") }));
  };

  beforeAll(async () => {
    // In CI this is where a missing engine fails, with the reason.
    docker = await connect();
    base = await testBaseImage(docker);
    const built = await buildImage({ dir: FAKE_DIR, tag: FAKE_IMAGE, ...(base ? { buildArgs: { BASE_IMAGE: base } } : {}) });
    if (built.kind === "failed") throw new Error(built.reason);
  });

  afterAll(async () => {
    if (!docker) return;
    // Nothing of this file may be left behind, whatever failed.
    const left = await ours();
    await gc({ all: true, runId });
    expect(left.map((c) => c.Names)).toEqual([]);
  });

  it("builds an image with BuildKit, showing each step, and labels it with its base", async () => {
    const lines: string[] = [];
    const r = await buildImage({ dir: FAKE_DIR, tag: FAKE_IMAGE, ...(base ? { buildArgs: { BASE_IMAGE: base } } : {}), onLine: (l) => lines.push(l) });
    expect(r.kind, r.kind === "failed" ? r.reason : "").toBe("ok");
    expect(lines.some((l) => /COPY fake_harness\.py/.test(l))).toBe(true);
    const info = await docker.getImage(FAKE_IMAGE).inspect();
    if (base) expect(info.Config.Labels?.[LABELS.baseImage]).toBe(base);
  });

  it("a failing build names the failing step and shows its output", async () => {
    const dir = tempDir("badbuild");
    writeFileSync(join(dir, "Dockerfile"), `FROM ${FAKE_IMAGE}\nRUN echo preparing && echo step-output-marker >&2 && exit 7\n`);
    const r = await buildImage({ dir, tag: "hub-test/bad-build:1" });
    expect(r.kind).toBe("failed");
    if (r.kind !== "failed") return;
    expect(r.reason).toContain("exit code: 7");
    expect(r.reason).toMatch(/step .*RUN echo preparing/);
    expect(r.reason).toContain("step-output-marker");
  });

  it("streams demultiplexed stdout and stderr live into the logs and onLine, and results come back through /results", async () => {
    const lines: [string, string][] = [];
    const { result, dir, stdout, stderr } = await run(["out", "6"], { onLine: (s, l) => lines.push([s, l]) });
    expect(result).toMatchObject({ kind: "ok", exitCode: 0 });
    expect(stdout).toBe("line 0\nline 2\nline 4\n");
    expect(stderr).toBe("line 1\nline 3\nline 5\n");
    expect(lines.filter(([s]) => s === "stdout").map(([, l]) => l)).toEqual(["line 0", "line 2", "line 4"]);
    expect(lines.filter(([s]) => s === "stderr").map(([, l]) => l)).toEqual(["line 1", "line 3", "line 5"]);
    expect(JSON.parse(readFileSync(join(dir, "out.json"), "utf8"))).toEqual({ lines: 6 });
    expect(await ours()).toEqual([]);
  });

  it("passes the environment, works in /results and mounts the tokenizer read-only", async () => {
    const tok = tempDir("tok");
    writeFileSync(join(tok, "tokenizer.json"), "{}");
    let seen = "";
    const { result } = await run(["env"], {
      env: { HUB_TEST_VAR: "hello there" },
      mounts: [{ host: tok, container: "/tokenizer", ro: true }],
      onLine: (s, l) => {
        if (s === "stdout") seen += l;
      },
    });
    expect(result.kind).toBe("ok");
    const env = JSON.parse(seen);
    expect(env).toMatchObject({ cwd: "/results", env: { HUB_TEST_VAR: "hello there" }, tokenizer: ["tokenizer.json"], tokenizer_writable: false });
  });

  it("mounts host files an invocation names (a prompt file inside a JSON option) read-only at the same path", async () => {
    const data = join(tempDir("data"), "prompts.jsonl");
    writeFileSync(data, '{"prompt": "hello"}\n');
    const dir = tempDir("native");
    let seen = "";
    const r = await createDockerRuntime({ image: FAKE_IMAGE }).exec({
      harness: fakeHarness(),
      // The path arrives as the fake harness's argument here; a real adapter puts it in JSON.
      invocation: { argv: ["fake-harness", "cat", data], env: { UNRELATED: JSON.stringify({ kind: "json_file", path: data }) } },
      nativeDir: dir,
      tokenizerDir: tempDir("tok"),
      stdoutLog: join(dir, "stdout.log"),
      stderrLog: join(dir, "stderr.log"),
      onLine: (_s, l) => (seen += l),
    });
    expect(r.kind).toBe("ok");
    expect(seen).toBe('{"prompt": "hello"}');
    expect(referencedHostFiles({ argv: ["x", JSON.stringify({ path: data }), "/etc/hostname", "/v1/completions", "http://127.0.0.1:1/v1"] }, [])).toEqual([data]);
  });

  it("labels its container with the run id, harness and owning process while it runs", async () => {
    let id = "";
    const pending = run(["sleep", "2"], { onCreated: (c) => (id = c) });
    try {
      await waitFor(async () => (await ours()).length === 1);
      const [c] = await ours();
      expect(c!.Id).toBe(id);
      expect(c!.Labels).toMatchObject({ [LABELS.runId]: runId, [LABELS.harness]: "fake", [LABELS.pid]: String(process.pid) });
    } finally {
      // Even when an expectation failed: the next test must not see this container.
      expect((await pending).result.kind).toBe("ok");
    }
    expect(await ours()).toEqual([]);
  });

  it("records a non-zero exit code as a failure and keeps the output", async () => {
    const { result, stdout, stderr } = await run(["exit", "3"]);
    expect(result).toMatchObject({ kind: "failed", exitCode: 3 });
    if (result.kind === "failed") expect(result.reason).toContain("exited with code 3");
    expect(stdout).toContain("about to exit");
    expect(stderr).toContain("with an error");
    expect(await ours()).toEqual([]);
  });

  it("a harness executable missing from the image is reported as not found, and no container stays", async () => {
    const { result } = await run([], { argv: ["no-such-harness", "run"] });
    expect(result).toMatchObject({ kind: "failed", exitCode: 127 });
    if (result.kind === "failed") expect(result.reason).toContain(`no-such-harness was not found in image ${FAKE_IMAGE}`);
    expect(await ours()).toEqual([]);
  });

  it("--timeout stops a container that ignores SIGINT and SIGTERM, and removes it", async () => {
    const started = Date.now();
    const { result, stdout } = await run(["stubborn", "60"], { timeoutMs: 1500, graceMs: 700 });
    expect(result.kind).toBe("timed_out");
    expect(result.exitCode).toBe(137);
    expect(stdout).toContain("ignoring SIGINT");
    expect(stdout).toContain("ignoring SIGTERM");
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await ours()).toEqual([]);
  });

  it("an abort (Ctrl-C) delivers SIGINT to the harness and removes the container", async () => {
    const abort = new AbortController();
    const { result, stdout } = await run(["sleep", "60"], {
      signal: abort.signal,
      onLine: (_s, l) => {
        if (l === "ready") abort.abort();
      },
    });
    expect(result).toMatchObject({ kind: "interrupted", exitCode: 130 });
    expect(stdout).toContain("got SIGINT");
    expect(await ours()).toEqual([]);
  });

  it("an abort before the start creates no container at all", async () => {
    const abort = new AbortController();
    abort.abort();
    const { result } = await run(["sleep", "60"], { signal: abort.signal });
    expect(result.kind).toBe("interrupted");
    expect(await ours()).toEqual([]);
  });

  it("a container killed from outside is reported as killed, with its output kept", async () => {
    const { result, stdout } = await run(["sleep", "60"], {
      onLine: (_s, l) => {
        if (l === "ready") void ours().then((cs) => Promise.all(cs.map((c) => docker.getContainer(c.Id).kill())));
      },
    });
    expect(result).toMatchObject({ kind: "failed", exitCode: 137, signal: "SIGKILL" });
    if (result.kind === "failed") expect(result.reason).toMatch(/killed by SIGKILL/);
    expect(stdout).toContain("ready");
    expect(await ours()).toEqual([]);
  });

  it("an OOM-killed container is reported as such, with its output kept", async () => {
    const { result, stdout } = await run(["oom", "1024"], { memoryBytes: 96 * 2 ** 20 });
    expect(result).toMatchObject({ kind: "failed", exitCode: 137 });
    if (result.kind === "failed") expect(result.reason).toMatch(/OOM killer \(memory limit 96 MiB\)/);
    expect(stdout).toContain("allocated 16 MiB");
    expect(stdout).not.toContain("allocated everything");
    expect(await ours()).toEqual([]);
  });

  it("hub gc removes containers whose hub process is gone and spares a live one's", async () => {
    const make = (pid: string) =>
      docker.createContainer({
        Image: FAKE_IMAGE,
        Cmd: ["fake-harness", "sleep", "60"],
        Labels: { [LABELS.runId]: runId, [LABELS.harness]: "fake", [LABELS.pid]: pid, [LABELS.host]: hostname() },
        HostConfig: { NetworkMode: "host" },
      });
    // A pid that cannot be alive (above the kernel's pid_max), and this process's.
    const dead = await make("99999999");
    await dead.start();
    const live = await make(String(process.pid));
    const dry = await gc({ runId, dryRun: true });
    expect(dry.removed.map((c) => c.id)).toEqual([dead.id]);
    expect((await ours()).length).toBe(2);

    const r = await hub(["gc", "--run-id", runId]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("removed");
    expect(r.stdout).toContain("kept: hub process");
    expect((await ours()).map((c) => c.Id)).toEqual([live.id]);

    const all = await hub(["gc", "--run-id", runId, "--all"]);
    expect(all.exitCode, all.stderr).toBe(0);
    expect(await ours()).toEqual([]);
  });

  it("runs a whole hub run in a container: loopback target, config file and results through /results, run.json", async () => {
    const sim: Simulator = await startSimulator({ port: 0, ttftMs: 20, itlMs: 5, seed: 3 });
    try {
      const fake = fakeHarness();
      const harness: HarnessDefinition = {
        ...fake,
        install: { kind: "pip", distribution: "fake-harness", packages: [] },
        translate: (_profile, ctx) => ({
          kind: "ok",
          invocations: [{ argv: ["fake-harness", "bench", ctx.target, ctx.model, "3", "8", join(ctx.outputDir, "out.json")], files: { "fake-config.txt": "config" } }],
          warnings: [],
        }),
      };
      // The user-image path: the image's fake-harness 1.0 is checked against the pinned 1.0.
      const runtime = await createRuntime("docker", { image: FAKE_IMAGE });
      const out = join(tempDir("bench"), "run");
      const install: string[] = [];
      const outcome = await runBenchmark(
        { harness, runtime, profile: "sanity_concurrent", overrides: ["load.stages.0.duration_s=null", "load.stages.0.requests=3"], target: sim.url, out },
        { onInstallLine: (l) => install.push(l) },
      );
      expect(outcome.kind, outcome.kind === "failed" ? outcome.reason : "").toBe("ok");
      expect(install.join("\n")).toContain(`using image ${FAKE_IMAGE} (fake-harness 1.0)`);
      const run = JSON.parse(readFileSync(join(out, "run.json"), "utf8"));
      expect(run).toMatchObject({ status: "ok", runtime: "docker", exit_code: 0, harness: { installed_version: "1.0" } });
      expect(run.commands[0].argv.slice(0, 2)).toEqual(["docker", "run"]);
      expect(run.commands[0].argv).toContain("/results/out.json");
      expect(readFileSync(join(out, "native", "stdout.log"), "utf8")).toContain("request 3/3 done");
      expect(existsSync(join(out, "native", "fake-config.txt"))).toBe(true);
      const m = Metrics.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
      expect(m.run.runtime).toBe("docker");
      expect(m.stages[0]!.requests.successful).toBe(3);
      expect(m.stages[0]!.latency.ttft_ms.p50).toBeGreaterThanOrEqual(20);
      // Nothing left with this run's id.
      expect(await docker.listContainers({ all: true, filters: JSON.stringify({ label: [`${LABELS.runId}=${run.run_id}`] }) })).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("--parallel 2: one container per worker, each writing to its own native/worker-<i>/, merged into one result", async () => {
    const sim: Simulator = await startSimulator({ port: 0, ttftMs: 20, itlMs: 5, seed: 4 });
    try {
      const fake = fakeHarness();
      const harness: HarnessDefinition = {
        ...fake,
        install: { kind: "pip", distribution: "fake-harness", packages: [] },
        translate: (profile, ctx) => ({
          kind: "ok",
          invocations: [{ argv: ["fake-harness", "bench", ctx.target, ctx.model, String(profile.load.stages[0]!.requests), "8", join(ctx.outputDir, "out.json")] }],
          warnings: [],
        }),
      };
      const out = join(tempDir("parallel"), "run");
      const before = sim.trace().length;
      const outcome = await runBenchmark(
        { harness, runtime: await createRuntime("docker", { image: FAKE_IMAGE }), profile: "sanity_concurrent", overrides: ["load.stages.0.duration_s=null", "load.stages.0.requests=4"], target: sim.url, out, parallel: 2 },
        {},
      );
      expect(outcome.kind, outcome.kind === "failed" ? outcome.reason : "").toBe("ok");
      for (const w of [0, 1]) expect(readFileSync(join(out, "native", `worker-${w}`, "stdout.log"), "utf8")).toContain("request 2/2 done");
      const m = Metrics.parse(JSON.parse(readFileSync(join(out, "metrics.json"), "utf8")));
      expect(m.stages[0]!.requests.successful).toBe(4);
      expect(sim.trace().length - before).toBe(4);
      expect(m.stages[0]!.workers!.map((w) => w.requests)).toEqual([2, 2]);
    } finally {
      await sim.close();
    }
  });

  it("--image refuses an image whose harness version is not the pinned one", async () => {
    const runtime = createDockerRuntime({ image: FAKE_IMAGE });
    const r = await runtime.prepare({ ...fakeHarness(), version: "2.0", install: { kind: "pip", distribution: "fake-harness", packages: [] } }, () => {});
    expect(r.kind).toBe("failed");
    if (r.kind === "failed") expect(r.reason).toMatch(/has fake-harness 1\.0, but this hub was written for 2\.0/);
  });
});

/** Protobuf wire format, enough to write BuildKit status messages. */
const pb = {
  varint(n: number): Buffer {
    const out: number[] = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n = Math.floor(n / 128);
    } while (n > 0);
    return Buffer.from(out);
  },
  field(no: number, value: Buffer | string | number): Buffer {
    if (typeof value === "number") return Buffer.concat([pb.varint(no << 3), pb.varint(value)]);
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value);
    return Buffer.concat([pb.varint((no << 3) | 2), pb.varint(bytes.length), bytes]);
  },
  trace(...fields: Buffer[]): string {
    return `${JSON.stringify({ id: "moby.buildkit.trace", aux: Buffer.concat(fields).toString("base64") })}\n`;
  },
};

describe("build progress from BuildKit's status stream (no engine needed)", () => {
  const vertex = (digest: string, name: string, extra: Buffer[] = []) => pb.field(1, Buffer.concat([pb.field(1, digest), pb.field(3, name), ...extra]));
  const started = (s: number) => pb.field(5, pb.field(1, s));
  const completed = (s: number) => pb.field(6, pb.field(1, s));
  const log = (digest: string, text: string) => pb.field(3, Buffer.concat([pb.field(1, digest), pb.field(3, 1), pb.field(4, text)]));

  it("announces steps, shows their output line by line, times them and keeps a failing step's output", () => {
    const lines: string[] = [];
    const p = new BuildProgress((l) => lines.push(l));
    p.write(pb.trace(vertex("sha256:a", "[1/2] RUN pip install torch", [started(100)])));
    p.write(pb.trace(log("sha256:a", "Collecting torch\nDownloading torch (539 MB)\npartial ")));
    p.write(pb.trace(log("sha256:a", "line\n")));
    p.write(pb.trace(vertex("sha256:a", "[1/2] RUN pip install torch", [started(100), completed(160)])));
    expect(lines).toEqual(["[1/2] RUN pip install torch", "  Collecting torch", "  Downloading torch (539 MB)", "  partial line", "done in 60.0 s: [1/2] RUN pip install torch"]);

    p.write(pb.trace(vertex("sha256:b", "[2/2] RUN false", [started(170)])));
    p.write(pb.trace(log("sha256:b", "about to fail\n")));
    p.write(pb.trace(vertex("sha256:b", "[2/2] RUN false", [started(170), completed(171), pb.field(7, 'process "/bin/sh -c false" did not complete successfully: exit code: 1')])));
    p.end();
    expect(p.failure).toMatchObject({ step: "[2/2] RUN false", output: ["about to fail"] });
    expect(describeFailure(p.failure!)).toBe("step [2/2] RUN false failed: exit code: 1\nits last output:\n  about to fail");
  });

  it("says a silent step is still running, at most once per quiet period", () => {
    const lines: string[] = [];
    const p = new BuildProgress((l) => lines.push(l));
    const t0 = Math.floor(Date.now() / 1000);
    p.write(pb.trace(vertex("sha256:c", "[3/5] RUN pip install -r /tmp/requirements.txt", [started(t0)])));
    expect(p.heartbeat(30_000, Date.now() + 10_000)).toBeUndefined();
    expect(p.heartbeat(30_000, t0 * 1000 + 45_000)).toBe("... still running after 45 s: [3/5] RUN pip install -r /tmp/requirements.txt");
    expect(p.heartbeat(30_000, t0 * 1000 + 50_000)).toBeUndefined();
  });

  it("reads the classic builder's stream too", () => {
    const p = new BuildProgress(() => {});
    p.write(`${JSON.stringify({ stream: "Step 2/3 : RUN make\n" })}\n${JSON.stringify({ stream: "make: *** [all] Error 2\n" })}\n`);
    p.write(`${JSON.stringify({ errorDetail: { message: "The command '/bin/sh -c make' returned a non-zero code: 2" }, error: "x" })}\n`);
    expect(p.failure).toMatchObject({ step: "Step 2/3 : RUN make", output: ["make: *** [all] Error 2"] });
  });
});

describe("docker runtime without an engine", () => {
  it("says the daemon is unreachable, with DOCKER_HOST, through prepare and through the CLI", async () => {
    const saved = process.env.DOCKER_HOST;
    const nowhere = `unix://${join(tempDir("nosock"), "docker.sock")}`;
    process.env.DOCKER_HOST = nowhere;
    try {
      const r = await createDockerRuntime().prepare(fakeHarness(), () => {});
      expect(r.kind).toBe("failed");
      if (r.kind === "failed") expect(r.reason).toContain(`Is Docker running? DOCKER_HOST=${nowhere}`);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    // No Docker and no cluster: nothing to clean is the user's to fix.
    const gcRun = await execa(process.execPath, [HUB, "gc"], { reject: false, timeout: 60_000, env: { DOCKER_HOST: nowhere, KUBECONFIG: "/nonexistent/kubeconfig", HOME: "/nonexistent" } });
    expect(gcRun.exitCode).toBe(2);
    expect(gcRun.stderr).toContain(`Is Docker running? DOCKER_HOST=${nowhere}`);
  });

  it("--image needs a runtime that runs images", async () => {
    await expect(createRuntime("local", { image: "some/image:1" })).rejects.toThrow(/--image needs --runtime docker or kubernetes/);
  });
});

async function waitFor(cond: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("condition not met in time");
}
