import { spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { hostname } from "node:os";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type Docker from "dockerode";
import type { ExecResult } from "../process.ts";
import { LineSink } from "../lines.ts";
import { connect, isNotFound, LABELS, shortError, withTimeout } from "./engine.ts";

export interface ContainerRunOptions {
  image: string;
  argv: string[];
  env?: Record<string, string>;
  /** host path → container path; `ro` mounts read-only. */
  mounts?: { host: string; container: string; ro?: boolean }[];
  workingDir?: string;
  /** Labels besides hub's own (pid, host). Must include harness-hub.run-id. */
  labels: Record<string, string>;
  name?: string;
  /** Memory limit in bytes (OOM tests, or a user's cap). */
  memoryBytes?: number;
  stdoutLog: string;
  stderrLog: string;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Aborting stops the container (Ctrl-C); it is removed either way. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** How long the container gets between SIGINT, SIGTERM and SIGKILL. */
  graceMs?: number;
  /** Called once the container exists (tests use it to kill it from outside). */
  onCreated?: (id: string) => void;
}

const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };

// --- containers this process owns, removed even when it exits abruptly -------------------------

const owned = new Set<string>();
let exitHookInstalled = false;
// .ts from a checkout, .js from the built package.
const REAPER = fileURLToPath(new URL(`./reap.${import.meta.url.slice(-2)}`, import.meta.url));

/**
 * A second Ctrl-C exits hub at once, with no time for HTTP calls. On exit, containers still owned
 * are handed to a detached reaper process that force-removes them.
 */
function track(id: string): void {
  owned.add(id);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    if (owned.size === 0) return;
    try {
      spawn(process.execPath, [REAPER, ...owned], { detached: true, stdio: "ignore", env: process.env }).unref();
    } catch {
      // `hub gc` is the last resort.
    }
  });
}

export function standardLabels(): Record<string, string> {
  return { [LABELS.pid]: String(process.pid), [LABELS.host]: hostname() };
}

/** The user the harness runs as: the caller's, so files in the bind mounts stay theirs. */
function userSpec(): { user?: string; home?: string } {
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  if (uid === undefined || uid === 0) return {};
  // No home directory exists for an arbitrary uid in the image; caches go to /tmp.
  return { user: `${uid}:${gid ?? uid}`, home: "/tmp" };
}

/**
 * Runs one container to completion: attaches before starting so no output is lost, streams the
 * demultiplexed stdout and stderr into the log files and onLine as it arrives, stops it on abort
 * or timeout (SIGINT, then SIGTERM, then SIGKILL), reports OOM kills and signals, and removes it
 * whatever happened.
 */
export async function runContainer(opts: ContainerRunOptions): Promise<ExecResult> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const logs: Record<"stdout" | "stderr", WriteStream> = {
    stdout: createWriteStream(opts.stdoutLog, { flags: "a" }),
    stderr: createWriteStream(opts.stderrLog, { flags: "a" }),
  };
  const closeLogs = () => Promise.all([closeStream(logs.stdout), closeStream(logs.stderr)]);
  if (opts.signal?.aborted) {
    await closeLogs();
    return { kind: "interrupted", exitCode: null, durationMs: elapsed() };
  }
  let docker: Docker;
  try {
    docker = await connect();
  } catch (e) {
    await closeLogs();
    throw e;
  }
  const user = userSpec();
  const env = { ...(user.home ? { HOME: user.home } : {}), ...opts.env };

  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      ...(opts.name ? { name: opts.name } : {}),
      Image: opts.image,
      // An upstream image's entrypoint is bypassed: argv[0] is the harness executable.
      Entrypoint: [],
      Cmd: opts.argv,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
      ...(user.user ? { User: user.user } : {}),
      Labels: { ...standardLabels(), ...opts.labels },
      Tty: false,
      OpenStdin: false,
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        // Host networking: loopback targets (and hub's simulator) are reachable as they are.
        NetworkMode: "host",
        // A tiny init as PID 1 forwards signals to the harness and reaps its workers.
        Init: true,
        AutoRemove: false,
        Binds: (opts.mounts ?? []).map((m) => `${m.host}:${m.container}${m.ro ? ":ro" : ""}`),
        ...(opts.memoryBytes ? { Memory: opts.memoryBytes, MemorySwap: opts.memoryBytes } : {}),
      },
    });
  } catch (e) {
    const reason = isNotFound(e) ? `image ${opts.image} is not in the Docker engine` : `creating the container failed: ${shortError(e)}`;
    await closeLogs();
    return { kind: "failed", exitCode: null, reason, durationMs: elapsed() };
  }
  track(container.id);
  opts.onCreated?.(container.id);

  let stopping: "interrupted" | "timed_out" | undefined;
  let lastStderr = "";
  const timers: NodeJS.Timeout[] = [];
  const onAbort = () => stop("interrupted");
  const pumps = (["stdout", "stderr"] as const).map((name) => {
    const pt = new PassThrough();
    return { name, pt, done: pump(name, pt) };
  });
  const endPumps = () => pumps.forEach((p) => p.pt.writableEnded || p.pt.end());
  try {
    const attached = (await container.attach({ stream: true, stdout: true, stderr: true, logs: true })) as NodeJS.ReadableStream;
    docker.modem.demuxStream(attached, pumps[0]!.pt, pumps[1]!.pt);
    const attachEnded = new Promise<void>((resolve) => {
      attached.on("end", resolve);
      attached.on("close", resolve);
      attached.on("error", () => resolve());
    }).then(endPumps);

    // "next-exit" registered before the start cannot miss a quick exit.
    const waited = container.wait({ condition: "next-exit" }) as Promise<{ StatusCode: number }>;
    // If the start fails, the wait ends with the removal; nobody awaits it then.
    waited.catch(() => {});
    try {
      await container.start();
    } catch (e) {
      const message = shortError(e);
      const missing = /executable file not found|no such file or directory/i.test(message);
      const reason = missing ? `${opts.argv[0]} was not found in image ${opts.image} (${message})` : `starting the container failed: ${message}`;
      return { kind: "failed", exitCode: null, reason, durationMs: elapsed() };
    }

    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) onAbort();
    if (opts.timeoutMs !== undefined) timers.push(setTimeout(() => stop("timed_out"), opts.timeoutMs));

    const status = await waited;
    // The attach stream ends right after the exit; a daemon that keeps it open gets a few seconds.
    await withTimeout(attachEnded, 5000, "attach stream did not end").catch(endPumps);
    await Promise.all(pumps.map((p) => p.done));

    const state = await container.inspect().then((i) => i.State).catch(() => undefined);
    const exitCode = state?.ExitCode ?? status.StatusCode;
    const durationMs = elapsed();
    if (stopping === "interrupted") return { kind: "interrupted", exitCode, durationMs };
    if (stopping === "timed_out") return { kind: "timed_out", exitCode, durationMs };
    if (exitCode === 0) return { kind: "ok", exitCode: 0, durationMs };
    const what = `${opts.argv[0]} in container ${container.id.slice(0, 12)}`;
    if (state?.OOMKilled) {
      const limit = opts.memoryBytes ? ` (memory limit ${Math.round(opts.memoryBytes / 2 ** 20)} MiB)` : "";
      return { kind: "failed", exitCode, signal: "SIGKILL", reason: `${what} was killed by the kernel's OOM killer${limit}, exit code ${exitCode}`, durationMs };
    }
    // Docker reports death by signal N as exit code 128 + N.
    // The init process could not exec argv[0] ("[FATAL tini (7)] exec x failed: No such file ...").
    if (exitCode === 127 && /exec .* failed|not found/i.test(lastStderr)) {
      return { kind: "failed", exitCode, reason: `${opts.argv[0]} was not found in image ${opts.image} (${lastStderr.trim()})`, durationMs };
    }
    const signal = exitCode > 128 && exitCode < 160 ? (SIGNALS[exitCode - 128] ?? `signal ${exitCode - 128}`) : undefined;
    if (signal) return { kind: "failed", exitCode, signal, reason: `${what} was killed by ${signal} (exit code ${exitCode})`, durationMs };
    return { kind: "failed", exitCode, reason: `${what} exited with code ${exitCode}`, durationMs };
  } catch (e) {
    return { kind: "failed", exitCode: null, reason: `running the container failed: ${shortError(e)}`, durationMs: elapsed() };
  } finally {
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener("abort", onAbort);
    await removeContainer(docker, container.id);
    // Output still in flight is written before the logs close.
    endPumps();
    await withTimeout(Promise.all(pumps.map((p) => p.done)), 5000, "log pumps did not finish").catch(() => {});
    await closeLogs();
  }

  function stop(why: "interrupted" | "timed_out"): void {
    if (stopping) return;
    stopping = why;
    const grace = opts.graceMs ?? 5000;
    const kill = (signal: string) => container.kill({ signal }).catch(() => {});
    void kill("SIGINT");
    timers.push(setTimeout(() => void kill("SIGTERM"), grace).unref());
    timers.push(setTimeout(() => void kill("SIGKILL"), 2 * grace).unref());
  }

  async function pump(name: "stdout" | "stderr", source: PassThrough): Promise<void> {
    const sink = new LineSink(logs[name], (l) => {
      if (name === "stderr" && l.trim()) lastStderr = l;
      opts.onLine?.(name, l);
    });
    source.setEncoding("utf8");
    for await (const chunk of source as AsyncIterable<string>) sink.write(chunk);
    sink.end();
  }
}

/** Force-removes a container (and its anonymous volumes); a container already gone is fine. */
export async function removeContainer(docker: Docker, id: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await docker.getContainer(id).remove({ force: true, v: true });
      owned.delete(id);
      return;
    } catch (e) {
      if (isNotFound(e)) {
        owned.delete(id);
        return;
      }
      // 409: removal already in progress; wait for it.
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    await docker.getContainer(id).inspect();
  } catch (e) {
    if (isNotFound(e)) owned.delete(id);
  }
}

async function closeStream(s: WriteStream): Promise<void> {
  s.end();
  if (!s.closed) await once(s, "close");
}
