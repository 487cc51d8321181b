/**
 * `hub run --runtime docker`: the harness runs in a container of its image (built by hub from
 * harnesses/<name>/Dockerfile or harnesses/_docker/Dockerfile, or a user's `--image`), with the
 * run's native/ directory mounted at /results, the tokenizer read-only at /tokenizer and host
 * networking. dockerode is loaded only when Docker is used.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, join, normalize } from "node:path";
import { UserError } from "../../errors.ts";
import type { HarnessDefinition, Invocation } from "../../harness/contract.ts";
import type { Runtime } from "../runtime.ts";
import { buildHarnessImage, defaultBaseImage, formatBytes, imageRef, imageSource, imageState } from "./build.ts";
import { runContainer } from "./container.ts";
import { connect, isNotFound, LABELS, shortError } from "./engine.ts";

export const CONTAINER_RESULTS_DIR = "/results";
export const CONTAINER_TOKENIZER_DIR = "/tokenizer";

/** Environment every harness container gets (an upstream image may not set it). */
const HARNESS_ENV = { PYTHONUNBUFFERED: "1", HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" };

export interface DockerRuntimeOptions {
  /** Run this image instead of hub's own harness image (pulled when missing, never built). */
  image?: string;
  /** Container memory limit in bytes. */
  memoryBytes?: number;
  /** Between SIGINT, SIGTERM and SIGKILL when stopping (default 5 s). */
  graceMs?: number;
}

/** The run id from run.json, which run.ts writes before any harness starts. */
function runIdFor(nativeDir: string): string {
  const outDir = dirname(nativeDir);
  try {
    const id = JSON.parse(readFileSync(join(outDir, "run.json"), "utf8")).run_id;
    if (typeof id === "string" && id) return id;
  } catch {
    // Not a hub run directory (tests); the folder name stands in.
  }
  return basename(outDir);
}

/** Where a host file must not be mounted over the image's own. */
const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc", "/proc", "/sys", "/dev", "/run", "/boot", "/opt/hub", "/results", "/tokenizer"];

/**
 * Host files an invocation names by absolute path (a profile's prompt file, inside a JSON option or
 * a config file), mounted read-only at the same path so the harness finds them as it would
 * locally. Only existing regular files outside system directories count; the run's own folders
 * are mounted already.
 */
export function referencedHostFiles(invocation: Invocation, except: readonly string[]): string[] {
  const texts = [...invocation.argv, ...Object.values(invocation.env ?? {}), ...Object.values(invocation.files ?? {})];
  const found = new Set<string>();
  for (const text of texts) {
    for (const m of text.matchAll(/(?<![\w.:/~-])\/[^\s"'`,;:{}[\]()<>|=]+/g)) {
      const path = normalize(m[0].replace(/[.)]+$/, ""));
      if (SYSTEM_DIRS.some((d) => path === d || path.startsWith(`${d}/`))) continue;
      if (except.some((d) => path === d || path.startsWith(`${d}/`))) continue;
      try {
        if (statSync(path).isFile()) found.add(path);
      } catch {
        // Not a host path (a URL route, a container path).
      }
    }
  }
  return [...found].sort();
}

const containerName = (runId: string) => `hub-${runId.replace(/[^a-zA-Z0-9_.-]/g, "_")}-${randomBytes(3).toString("hex")}`.slice(0, 120);

export function createDockerRuntime(options: DockerRuntimeOptions = {}): Runtime {
  // A harness that ships with hub (no packages: its script runs on the standard library) runs in
  // the base image, with its script mounted from hub's tree (referencedHostFiles).
  const imageFor = (harness: HarnessDefinition) => options.image ?? (imageSource(harness) === "none" ? defaultBaseImage(harness) : imageRef(harness));

  return {
    name: "docker",

    harnessPaths: () => ({ outputDir: CONTAINER_RESULTS_DIR, tokenizerDir: CONTAINER_TOKENIZER_DIR }),

    async prepare(harness, onLine, signal) {
      try {
        await connect();
        if (options.image) return await prepareUserImage(harness, options.image, onLine);
        if (imageSource(harness) === "none") {
          const base = imageFor(harness);
          const present = await ensureImage(base, onLine);
          if (present.kind === "failed") return present;
          onLine(`${harness.name} ships with hub: running it in the base image ${base}`);
          return { kind: "ok", version: harness.version };
        }
        const ref = imageRef(harness);
        const state = await imageState(harness);
        if (state.kind === "ok") {
          onLine(`using image ${ref}`);
          return { kind: "ok", version: state.labels[LABELS.harnessVersion] ?? harness.version };
        }
        onLine(
          state.kind === "missing"
            ? `image ${ref} is not built yet: building it now (\`hub harness build ${harness.name}\` does this ahead of time)`
            : `image ${ref} was built from another Dockerfile or install spec: rebuilding it`,
        );
        const built = await buildHarnessImage(harness, { onLine, ...(signal ? { signal } : {}) });
        if (built.kind === "failed") return built;
        onLine(`built ${ref} (${formatBytes(built.sizeBytes)}) in ${(built.durationMs / 1000).toFixed(0)} s`);
        return { kind: "ok", version: harness.version };
      } catch (e) {
        return { kind: "failed", reason: e instanceof UserError ? e.message : `Docker: ${shortError(e)}` };
      }
    },

    describe(harness, invocation) {
      // What `docker run` would do; the host paths are the run's native/ and the tokenizer.
      return [
        "docker", "run", "--rm", "--init", "--network", "host",
        "-v", `<run>/native:${CONTAINER_RESULTS_DIR}`,
        "-v", `<tokenizer>:${CONTAINER_TOKENIZER_DIR}:ro`,
        "-w", CONTAINER_RESULTS_DIR,
        // A user's image may have an entrypoint; argv[0] is the harness executable.
        ...(options.image ? ["--entrypoint="] : []),
        imageFor(harness),
        ...invocation.argv,
      ];
    },

    exec(req) {
      const runId = runIdFor(req.nativeDir);
      return runContainer({
        image: imageFor(req.harness),
        argv: req.invocation.argv,
        // The API key travels as the environment variable harnesses read, never on a command line.
        env: { ...HARNESS_ENV, ...(process.env.OPENAI_API_KEY ? { OPENAI_API_KEY: process.env.OPENAI_API_KEY } : {}), ...req.invocation.env },
        mounts: [
          { host: req.nativeDir, container: CONTAINER_RESULTS_DIR },
          { host: req.tokenizerDir, container: CONTAINER_TOKENIZER_DIR, ro: true },
          ...referencedHostFiles(req.invocation, [req.nativeDir, req.tokenizerDir]).map((f) => ({ host: f, container: f, ro: true })),
        ],
        workingDir: CONTAINER_RESULTS_DIR,
        labels: { [LABELS.runId]: runId, [LABELS.harness]: req.harness.name },
        name: containerName(runId),
        ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}),
        ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
        stdoutLog: req.stdoutLog,
        stderrLog: req.stderrLog,
        ...(req.onLine ? { onLine: req.onLine } : {}),
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
      });
    },
  };
}

/** Pulls an image the engine does not have. */
async function ensureImage(image: string, onLine: (line: string) => void): Promise<{ kind: "ok" } | { kind: "failed"; reason: string }> {
  const docker = await connect();
  try {
    await docker.getImage(image).inspect();
    return { kind: "ok" };
  } catch (e) {
    if (!isNotFound(e)) throw e;
    onLine(`pulling ${image}`);
    try {
      const stream = await docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve()), (ev: { status?: string; id?: string }) => {
          if (ev.status && !/^(Downloading|Extracting|Waiting)/.test(ev.status)) onLine(`${ev.id ? `${ev.id}: ` : ""}${ev.status}`);
        }),
      );
    } catch (err) {
      return { kind: "failed", reason: `image ${image} is not in the Docker engine and pulling it failed: ${shortError(err)}` };
    }
    return { kind: "ok" };
  }
}

/** A user's image: pulled when missing, its harness version checked when it has Python. */
async function prepareUserImage(harness: HarnessDefinition, image: string, onLine: (line: string) => void): Promise<{ kind: "ok"; version: string } | { kind: "failed"; reason: string }> {
  const present = await ensureImage(image, onLine);
  if (present.kind === "failed") return present;
  // The pinned version is what the converter was written for; a different one is refused as the
  // local runtime refuses it. An image without Python (or the distribution) cannot be checked.
  const lines: string[] = [];
  const code = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))";
  const probe = await runContainer({
    image,
    argv: ["python3", "-c", code, harness.install.distribution],
    labels: { [LABELS.runId]: "version-check", [LABELS.harness]: harness.name },
    stdoutLog: "/dev/null",
    stderrLog: "/dev/null",
    onLine: (s, l) => {
      if (s === "stdout" && l.trim()) lines.push(l.trim());
    },
    timeoutMs: 60_000,
  });
  const version = probe.kind === "ok" ? lines.at(-1) : undefined;
  if (!version) {
    onLine(`could not read ${harness.install.distribution}'s version in ${image} (python3 -c ... gave ${probe.kind}); assuming it is what the run needs`);
    return { kind: "ok", version: "unknown" };
  }
  if (version !== harness.version) {
    return { kind: "failed", reason: `${image} has ${harness.install.distribution} ${version}, but this hub was written for ${harness.version}: use an image of ${harness.version}, or drop --image to use hub's own` };
  }
  onLine(`using image ${image} (${harness.install.distribution} ${version})`);
  return { kind: "ok", version };
}

export const dockerRuntime: Runtime = createDockerRuntime();

