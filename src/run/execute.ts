import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HarnessDefinition, Invocation } from "../harness/contract.ts";
import { maxOf } from "../metrics/stats.ts";
import type { Reporter } from "../report/reporter.ts";
import type { ExecRequest, Runtime, WorkerResult } from "../runtime/runtime.ts";
import type { CommandRecord, RunFile } from "./record.ts";
import { redactEnv } from "./redact.ts";

/** One load generator: its output folder and the invocations its share of the profile translated to. */
export interface Worker {
  index: number;
  nativeDir: string;
  invocations: Invocation[];
}

export interface ExecuteOptions {
  harness: HarnessDefinition;
  runtime: Runtime;
  workers: Worker[];
  tokenizerDir: string;
  runId: string;
  run: RunFile;
  reporter: Reporter;
  signal?: AbortSignal;
  deadline?: number;
}

/**
 * Runs the invocations in order (one per stage for some harnesses); each step runs every worker's
 * invocation at once, through the runtime's execWorkers (one Kubernetes Job) or N exec()s. Stops
 * after the first step in which a worker did not succeed; returns every worker's last result.
 */
export async function executeWorkers(o: ExecuteOptions): Promise<WorkerResult[]> {
  const steps = maxOf(o.workers.map((w) => w.invocations.length).concat(0));
  let results: WorkerResult[] = [];
  for (let step = 0; step < steps; step++) {
    const requests = o.workers.map((w) => request(o, w, w.invocations[step]!));
    const entries = requests.map((r) => commandEntry(o, r));
    o.run.save();
    results = o.runtime.execWorkers ? await o.runtime.execWorkers(requests) : await Promise.all(requests.map((r) => o.runtime.exec(r)));
    results.forEach((res, i) => recordResult(o, entries[i]!, res, requests[i]!.worker));
    o.run.save();
    if (results.some((r) => r.kind !== "ok")) break;
  }
  return results;
}

function request(o: ExecuteOptions, w: Worker, inv: Invocation): ExecRequest {
  for (const [rel, content] of Object.entries(inv.files ?? {})) writeFileSync(join(w.nativeDir, rel), content);
  const many = o.workers.length > 1;
  return {
    harness: o.harness,
    invocation: inv,
    nativeDir: w.nativeDir,
    tokenizerDir: o.tokenizerDir,
    stdoutLog: join(w.nativeDir, "stdout.log"),
    stderrLog: join(w.nativeDir, "stderr.log"),
    // With several workers every line says whose it is.
    onLine: (s, l) => o.reporter.onHarnessOutput?.(s, many ? `[w${w.index}] ${l}` : l),
    runId: o.runId,
    ...(many ? { worker: w.index } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.deadline !== undefined ? { timeoutMs: Math.max(0, o.deadline - Date.now()) } : {}),
  };
}

function commandEntry(o: ExecuteOptions, r: ExecRequest): CommandRecord {
  const inv = r.invocation;
  const argv = o.runtime.describe(o.harness, inv);
  const entry: CommandRecord = {
    argv,
    ...(inv.env ? { env: redactEnv(inv.env)! } : {}),
    ...(inv.stage !== undefined ? { stage: inv.stage } : {}),
    ...(r.worker !== undefined ? { worker: r.worker } : {}),
  };
  o.run.record.commands.push(entry);
  o.reporter.onHarnessStart?.({ command: argv, ...(inv.stage !== undefined ? { stage: inv.stage } : {}) });
  return entry;
}

function recordResult(o: ExecuteOptions, entry: CommandRecord, res: WorkerResult, worker: number | undefined): void {
  entry.exit_code = res.exitCode;
  entry.result = res.kind;
  if (res.kind === "failed") entry.reason = res.reason;
  entry.duration_s = res.durationMs / 1000;
  const w = o.run.record.workers.find((x) => x.worker === (worker ?? 0));
  if (w && res.placement !== undefined) w.placement = res.placement;
  if (w && res.clockOffsetS !== undefined) w.clock_offset_s = res.clockOffsetS;
  o.run.record.exit_code = res.exitCode;
  o.reporter.onHarnessEnd?.(res);
}
