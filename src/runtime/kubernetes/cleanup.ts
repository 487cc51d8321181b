/**
 * Removing what a Job run created: the Job (foreground, so its pods go first), its ConfigMap and
 * Secret, then a bounded wait until no pod of it remains. Jobs still owned when hub exits
 * abruptly (second Ctrl-C) are handed to a detached reaper process (reap.ts).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { apiFailure, CALL_TIMEOUT_MS, isNotFound, within, type KubeClient } from "./client.ts";

/** The objects of one Job run, all of the same name. */
export interface JobObjects {
  namespace: string;
  name: string;
  secret: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ignoreMissing(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return isNotFound(e) ? undefined : apiFailure(e).message;
  }
}

/** Starts the deletions; their failures, if any (a missing object is not one). */
export async function deleteJobObjects(client: KubeClient, o: JobObjects): Promise<string[]> {
  const opts = within(CALL_TIMEOUT_MS);
  const failures = await Promise.all([
    ignoreMissing(client.batch.deleteNamespacedJob({ name: o.name, namespace: o.namespace, propagationPolicy: "Foreground" }, opts)),
    ignoreMissing(client.core.deleteNamespacedConfigMap({ name: o.name, namespace: o.namespace }, opts)),
    o.secret ? ignoreMissing(client.core.deleteNamespacedSecret({ name: o.name, namespace: o.namespace }, opts)) : undefined,
  ]);
  return failures.filter((f): f is string => f !== undefined);
}

/**
 * Deletes the Job and waits (at most waitMs) until neither it nor any of its pods exists. Pods
 * still there after most of the wait are deleted without grace. Returns what is left, in words.
 */
export async function removeJob(client: KubeClient, o: JobObjects, waitMs = 60_000): Promise<{ left: string[] }> {
  const failures = await deleteJobObjects(client, o);
  const deadline = Date.now() + waitMs;
  let forced = false;
  for (;;) {
    const [pods, job] = await Promise.all([
      client.core.listNamespacedPod({ namespace: o.namespace, labelSelector: `job-name=${o.name}` }, within(CALL_TIMEOUT_MS)).then((l) => l.items, () => undefined),
      client.batch.readNamespacedJob({ name: o.name, namespace: o.namespace }, within(CALL_TIMEOUT_MS)).then(() => true, (e) => !isNotFound(e)),
    ]);
    if (pods && pods.length === 0 && !job) return { left: [] };
    if (Date.now() >= deadline) {
      const left = [...(job ? [`job/${o.name}`] : []), ...(pods ?? []).map((p) => `pod/${p.metadata?.name}`)];
      return { left: [...left, ...failures.map((f) => `(${f})`)] };
    }
    if (!forced && pods && pods.length > 0 && deadline - Date.now() < waitMs / 3) {
      forced = true;
      await Promise.all(pods.map((p) => ignoreMissing(client.core.deleteNamespacedPod({ name: p.metadata!.name!, namespace: o.namespace, gracePeriodSeconds: 0 }, within(CALL_TIMEOUT_MS)))));
    }
    await sleep(500);
  }
}

// --- Jobs this process owns, removed even when it exits abruptly --------------------------------

const owned = new Map<string, JobObjects & { kubeconfig?: string }>();
let exitHookInstalled = false;
// reap.ts in a checkout, reap.js in the built package.
const REAPER = fileURLToPath(new URL(`./reap.${import.meta.url.slice(-2)}`, import.meta.url));

export function track(o: JobObjects, kubeconfig: string | undefined): void {
  owned.set(`${o.namespace}/${o.name}`, { ...o, ...(kubeconfig ? { kubeconfig } : {}) });
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    if (owned.size === 0) return;
    try {
      spawn(process.execPath, [REAPER, JSON.stringify([...owned.values()])], { detached: true, stdio: "ignore", env: process.env }).unref();
    } catch {
      // `hub gc` is the last resort.
    }
  });
}

export function untrack(o: JobObjects): void {
  owned.delete(`${o.namespace}/${o.name}`);
}
