/**
 * execWorkers on Kubernetes: one Indexed Job for all workers, watched to the end, then deleted with
 * everything it made. Ctrl-C deletes it at once; a timeout first asks the harnesses to stop and
 * collects what they wrote (bounded), as the Docker runtime's SIGINT does.
 */
import { closeSync, openSync, readFileSync } from "node:fs";
import type * as k8s from "@kubernetes/client-node";
import { referencedHostFiles } from "../docker/index.ts";
import type { ExecRequest, KubernetesOptions, WorkerResult } from "../runtime.ts";
import { apiFailure, CALL_TIMEOUT_MS, within, type KubeClient } from "./client.ts";
import { removeJob, track, untrack, type JobObjects } from "./cleanup.ts";
import type { DiagnoseContext } from "./diagnose.ts";
import {
  API_KEY_ENV,
  backstopDeadline,
  buildConfigMap,
  buildJob,
  buildSecret,
  CONFIG_LIMIT_BYTES,
  configMapSize,
  jobName,
  ownerReference,
  type JobPlan,
  type WorkerSpec,
} from "./job.ts";
import { JobPods } from "./pods.ts";
import { StopState, WorkerRun } from "./worker.ts";
import { minOf } from "../../metrics/stats.ts";

/** After a timeout, how long the harnesses get to stop and have their results copied out. */
const SOFT_STOP_MS = 45_000;

export interface JobRunOptions {
  image: string;
  diag: DiagnoseContext;
  options: KubernetesOptions;
}

function workerSpec(req: ExecRequest): WorkerSpec {
  const inv = req.invocation;
  const hostFiles: Record<string, string> = {};
  // A file the invocation names by host path (a profile's prompt file, a script that ships with
  // hub) is written at the same path in the pod, as the Docker runtime mounts it.
  for (const f of referencedHostFiles(inv, [req.nativeDir, req.tokenizerDir])) hostFiles[f] = readFileSync(f).toString("base64");
  return { argv: inv.argv, env: inv.env ?? {}, files: inv.files ?? {}, hostFiles };
}

const allResults = (requests: ExecRequest[], r: (i: number) => WorkerResult) => requests.map((_, i) => r(i));

/** The log files every worker has, even one whose pod never started. */
function touchLogs(requests: ExecRequest[]): void {
  for (const r of requests) for (const f of [r.stdoutLog, r.stderrLog]) closeSync(openSync(f, "a"));
}

export async function runJob(client: KubeClient, requests: ExecRequest[], o: JobRunOptions): Promise<WorkerResult[]> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  touchLogs(requests);
  const signals = requests.map((r) => r.signal).filter((s): s is AbortSignal => s !== undefined);
  if (signals.some((s) => s.aborted)) return allResults(requests, () => ({ kind: "interrupted", exitCode: null, durationMs: 0 }));
  const timeouts = requests.map((r) => r.timeoutMs).filter((t): t is number => t !== undefined);
  const timeoutMs = timeouts.length > 0 ? minOf(timeouts) : undefined;
  const first = requests[0]!;
  const runId = first.runId ?? `hub-${process.pid}-${Date.now()}`;
  const apiKey = process.env[API_KEY_ENV];
  const name = jobName(runId);
  const plan: JobPlan = {
    name,
    namespace: client.namespace,
    runId,
    harness: first.harness.name,
    image: o.image,
    workers: requests.map(workerSpec),
    tokenizerHostPath: o.options.tokenizerHostPath ?? first.tokenizerDir,
    ...(apiKey ? { secretName: name } : {}),
    ...(timeoutMs !== undefined ? { activeDeadlineSeconds: backstopDeadline(timeoutMs) } : {}),
    options: o.options,
  };
  const failAll = (reason: string) => allResults(requests, () => ({ kind: "failed", exitCode: null, reason, durationMs: elapsed() }));

  const configMap = buildConfigMap(plan);
  const size = configMapSize(configMap);
  if (size > CONFIG_LIMIT_BYTES) {
    return failAll(`the invocations and the files they name take ${(size / 1024).toFixed(0)} KiB, more than a Kubernetes ConfigMap holds (${CONFIG_LIMIT_BYTES / 1024} KiB with hub's margin)`);
  }
  const objects: JobObjects = { namespace: client.namespace, name, secret: apiKey !== undefined };
  track(objects, o.options.kubeconfig);
  try {
    const created = await createObjects(client, plan, configMap, apiKey);
    if (created) {
      await removeJob(client, objects, 30_000);
      return failAll(created);
    }
    const stop = new StopState();
    const pods = new JobPods(client, name);
    const ctx = { client, pods, job: name, diag: o.diag, stop, started, ...(o.options.resources?.limits?.memory ? { memoryLimit: o.options.resources.limits.memory } : {}) };
    const workers = requests.map((r, i) => new WorkerRun(ctx, i, r));
    const onAbort = () => stop.request("interrupted", true);
    signals.forEach((s) => s.addEventListener("abort", onAbort, { once: true }));
    const timers: NodeJS.Timeout[] = [];
    if (timeoutMs !== undefined) {
      timers.push(
        setTimeout(() => {
          stop.request("timed_out", false);
          timers.push(setTimeout(() => stop.request("timed_out", true), SOFT_STOP_MS));
        }, timeoutMs),
      );
    }
    pods.start();
    try {
      return await Promise.all(workers.map((w) => w.run()));
    } finally {
      timers.forEach(clearTimeout);
      signals.forEach((s) => s.removeEventListener("abort", onAbort));
      pods.close();
      const { left } = await removeJob(client, objects);
      if (left.length > 0) first.onLine?.("stderr", `hub: could not remove ${left.join(", ")} in namespace ${client.namespace}; \`hub gc\` removes what is left`);
    }
  } finally {
    untrack(objects);
  }
}

/**
 * The Secret and ConfigMap, then the Job, then the Job made their owner (so that they go with it
 * whatever happens to hub). Undefined on success, else why it failed.
 */
async function createObjects(client: KubeClient, plan: JobPlan, configMap: k8s.V1ConfigMap, apiKey: string | undefined): Promise<string | undefined> {
  const ns = client.namespace;
  const opts = within(CALL_TIMEOUT_MS);
  let step = "the ConfigMap";
  try {
    if (apiKey) {
      step = "the Secret with the API key";
      await client.core.createNamespacedSecret({ namespace: ns, body: buildSecret(plan, apiKey) }, opts);
    }
    step = "the ConfigMap";
    await client.core.createNamespacedConfigMap({ namespace: ns, body: configMap }, opts);
    step = "the Job";
    const job = await client.batch.createNamespacedJob({ namespace: ns, body: buildJob(plan) }, opts);
    step = "the owner references";
    const patch = [{ op: "add", path: "/metadata/ownerReferences", value: [ownerReference(job)] }];
    await client.core.patchNamespacedConfigMap({ name: plan.name, namespace: ns, body: patch }, opts);
    if (apiKey) await client.core.patchNamespacedSecret({ name: plan.name, namespace: ns, body: patch }, opts);
    return undefined;
  } catch (e) {
    const f = apiFailure(e);
    return `creating ${step} in namespace ${ns} failed: ${f.message}`;
  }
}
