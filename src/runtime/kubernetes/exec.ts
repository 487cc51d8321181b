/**
 * Commands in a running harness container through the API server's exec (a websocket), each with
 * a bound: hub's helpers (pod-program.ts) for the harness's state, the copy-out and the clock.
 */
import { PassThrough, Writable, type Readable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import type { KubeClient } from "./client.ts";
import { CONTAINER } from "./job.ts";
import { helperCommand } from "./pod-program.ts";

export interface ExecOutcome {
  /** The command's exit code; null when it did not run (pod gone, container stopped, timeout). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not run or what the API server said, when it did not succeed. */
  error?: string;
}

export interface ExecOptions {
  /** Where stdout goes instead of the outcome's string (the tar stream). */
  stdout?: Writable;
  stdin?: Readable;
  /** The whole command's bound. */
  timeoutMs?: number;
  /** A bound on silence: no output for this long ends it (a long copy that still moves is fine). */
  idleTimeoutMs?: number;
}

/** Exit code from the status the API server sends at the end of an exec. */
function exitCodeOf(status: k8s.V1Status): number | null {
  if (status.status === "Success") return 0;
  if (status.reason === "NonZeroExitCode") {
    const code = Number(status.details?.causes?.find((c) => c.reason === "ExitCode")?.message);
    return Number.isInteger(code) ? code : null;
  }
  return null;
}

const collector = (into: { text: string }) =>
  new Writable({
    write(chunk: Buffer, _enc, cb) {
      into.text += chunk.toString("utf8");
      cb();
    },
  });

export async function execInPod(client: KubeClient, pod: string, argv: string[], opts: ExecOptions = {}): Promise<ExecOutcome> {
  const out = { text: "" };
  const err = { text: "" };
  const stdout = opts.stdout ?? collector(out);
  const stderr = collector(err);
  let status: k8s.V1Status | undefined;
  let ws: Awaited<ReturnType<k8s.Exec["exec"]>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  let ended: string | undefined;
  // Activity on stdout (the tar stream) keeps a long copy alive; ending it ends stdout once
  // everything before has gone through.
  const meter = new PassThrough();
  meter.pipe(stdout);
  const result = new Promise<ExecOutcome>((resolve) => {
    const finish = (error?: string) => {
      clearTimeout(timer);
      clearTimeout(idle);
      if (error && !ended) ended = error;
      if (!meter.writableEnded) meter.end();
      const exitCode = ended ? null : status ? exitCodeOf(status) : null;
      const problem = ended ?? (status && status.status !== "Success" && exitCode === null ? (status.message ?? "exec failed") : undefined);
      resolve({ exitCode, stdout: out.text, stderr: err.text, ...(problem ? { error: problem } : {}) });
    };
    const stop = (why: string) => {
      ended = why;
      ws?.terminate();
      finish(why);
    };
    const limit = opts.timeoutMs;
    if (limit !== undefined) timer = setTimeout(() => stop(`no end within ${limit / 1000} s`), limit);
    const touch = () => {
      if (opts.idleTimeoutMs === undefined) return;
      clearTimeout(idle);
      idle = setTimeout(() => stop(`no output for ${opts.idleTimeoutMs! / 1000} s`), opts.idleTimeoutMs);
    };
    touch();
    meter.on("data", touch);
    new k8s.Exec(client.kc)
      .exec(client.namespace, pod, CONTAINER, argv, meter, stderr, opts.stdin ?? null, false, (s) => (status = s))
      .then((socket) => {
        ws = socket;
        if (ended) socket.terminate();
        socket.on("close", () => finish());
        socket.on("error", (e: Error) => finish(e.message));
      })
      .catch((e: { message?: string }) => finish(`exec in pod ${pod} failed: ${e?.message ?? String(e)}`));
  });
  return result;
}

/** The harness's end as the launcher recorded it: its exit code and why it could not start. */
export type HarnessState = { kind: "running" } | { kind: "exited"; code: number; why?: string } | { kind: "unknown"; error: string };

export async function harnessState(client: KubeClient, pod: string): Promise<HarnessState> {
  const r = await execInPod(client, pod, helperCommand("status"), { timeoutMs: 15_000 });
  if (r.exitCode === 1) return { kind: "running" };
  const m = /^(-?\d+)(?: (.*))?$/s.exec(r.stdout.trim());
  if (r.exitCode === 0 && m) return { kind: "exited", code: Number(m[1]), ...(m[2] ? { why: m[2] } : {}) };
  return { kind: "unknown", error: r.error ?? (r.stderr.trim() || `status gave exit code ${r.exitCode}`) };
}

/** Tells the launcher it may exit (the results are out), or to stop the harness (time is up). */
export async function signalLauncher(client: KubeClient, pod: string, what: "collected" | "stop"): Promise<ExecOutcome> {
  return execInPod(client, pod, helperCommand(what), { timeoutMs: 15_000 });
}

const now = () => (performance.timeOrigin + performance.now()) / 1000;

/**
 * The pod's clock minus hub's, in seconds: NTP-style, from the quickest of a few request/reply
 * round trips on one exec (the reply's time is taken to be the round trip's midpoint), so the
 * exec's own set-up does not count. Undefined when it cannot be measured.
 */
export async function clockOffset(client: KubeClient, pod: string, rounds = 5): Promise<number | undefined> {
  const stdin = new PassThrough();
  const lines: string[] = [];
  let wake: (() => void) | undefined;
  let rest = "";
  const stdout = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const parts = (rest + chunk.toString("utf8")).split("\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
      wake?.();
      cb();
    },
  });
  const running = execInPod(client, pod, helperCommand("clock"), { stdout, stdin, timeoutMs: 20_000 });
  let ended = false;
  void running.then(() => {
    ended = true;
    wake?.();
  });
  const reply = async (): Promise<string | undefined> => {
    const deadline = Date.now() + 5000;
    while (lines.length === 0 && !ended && Date.now() < deadline) {
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 250).unref();
      });
    }
    return lines.shift();
  };
  let best: { rtt: number; offset: number } | undefined;
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = now();
      stdin.write("\n");
      const line = await reply();
      const t1 = now();
      const remote = Number(line);
      if (line === undefined || !Number.isFinite(remote)) break;
      const sample = { rtt: t1 - t0, offset: remote - (t0 + t1) / 2 };
      if (!best || sample.rtt < best.rtt) best = sample;
    }
  } finally {
    stdin.end();
    await running;
  }
  return best === undefined ? undefined : Math.round(best.offset * 1e4) / 1e4;
}
