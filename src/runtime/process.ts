import { createWriteStream, type WriteStream } from "node:fs";
import { once } from "node:events";
import { execa } from "execa";
import { LineSink } from "./lines.ts";

export interface ExecOptions {
  cwd: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Files the child's stdout and stderr are appended to, written as they arrive. */
  stdoutLog: string;
  stderrLog: string;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  /** Aborting ends the child's whole process group (Ctrl-C). */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** How long the group gets between SIGINT, SIGTERM and SIGKILL. */
  graceMs?: number;
}

export type ExecResult =
  | { kind: "ok"; exitCode: 0; durationMs: number }
  | { kind: "failed"; exitCode: number | null; signal?: string; reason: string; durationMs: number }
  | { kind: "interrupted"; exitCode: number | null; durationMs: number }
  | { kind: "timed_out"; exitCode: number | null; durationMs: number };

/**
 * Runs one harness process from an argument array (never a shell string) in its own process
 * group, so stopping it also stops the workers it forked.
 */
export async function runProcess(file: string, args: readonly string[], opts: ExecOptions): Promise<ExecResult> {
  const started = performance.now();
  const logs: Record<"stdout" | "stderr", WriteStream> = {
    stdout: createWriteStream(opts.stdoutLog, { flags: "a" }),
    stderr: createWriteStream(opts.stderrLog, { flags: "a" }),
  };
  const child = execa(file, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    reject: false,
    buffer: false,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });

  let stopping: "interrupted" | "timed_out" | undefined;
  const timers: NodeJS.Timeout[] = [];
  const killGroup = (signal: NodeJS.Signals) => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const stop = (why: "interrupted" | "timed_out") => {
    if (stopping) return;
    stopping = why;
    const grace = opts.graceMs ?? 5000;
    killGroup("SIGINT");
    timers.push(setTimeout(() => killGroup("SIGTERM"), grace).unref());
    timers.push(setTimeout(() => killGroup("SIGKILL"), 2 * grace).unref());
  };
  const onAbort = () => stop("interrupted");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  if (opts.timeoutMs !== undefined) timers.push(setTimeout(() => stop("timed_out"), opts.timeoutMs));

  const pump = async (stream: "stdout" | "stderr") => {
    const source = child[stream];
    if (!source) return;
    const sink = new LineSink(logs[stream], (line) => opts.onLine?.(stream, line));
    source.setEncoding("utf8");
    for await (const chunk of source) sink.write(chunk as string);
    sink.end();
  };

  const [result] = await Promise.all([child, pump("stdout"), pump("stderr")]);
  for (const t of timers) clearTimeout(t);
  opts.signal?.removeEventListener("abort", onAbort);
  // Stragglers the harness left in its group (forked workers) go with it.
  killGroup("SIGKILL");
  await Promise.all([closeStream(logs.stdout), closeStream(logs.stderr)]);

  const durationMs = performance.now() - started;
  const exitCode = result.exitCode ?? null;
  if (stopping === "interrupted") return { kind: "interrupted", exitCode, durationMs };
  if (stopping === "timed_out") return { kind: "timed_out", exitCode, durationMs };
  if (exitCode === 0) return { kind: "ok", exitCode: 0, durationMs };
  const signal = result.signal ?? undefined;
  const reason = result.failed && result.code === "ENOENT"
    ? `${file} was not found`
    : signal
      ? `${file} was killed by ${signal}`
      : `${file} exited with code ${exitCode}`;
  return { kind: "failed", exitCode, ...(signal ? { signal } : {}), reason, durationMs };
}

async function closeStream(s: WriteStream): Promise<void> {
  s.end();
  if (!s.closed) await once(s, "close");
}

/** Whether a process exists (EPERM: it does, and belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
