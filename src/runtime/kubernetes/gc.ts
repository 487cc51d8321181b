/**
 * `hub gc` for Kubernetes: Jobs, pods, ConfigMaps and Secrets with hub's run-id label that no
 * running hub owns (left by a hub that crashed or was killed), in one namespace or all of them.
 * Objects of a live hub on this host are kept unless `all`.
 */
import { hostname } from "node:os";
import type * as k8s from "@kubernetes/client-node";
import type { KubernetesOptions } from "../runtime.ts";
import { CALL_TIMEOUT_MS, connectCluster, isNotFound, within, type KubeClient } from "./client.ts";
import { LABELS, labelValue, runSelector } from "./job.ts";
import { processAlive } from "../process.ts";

export interface KubeLeftover {
  kind: "Job" | "Pod" | "ConfigMap" | "Secret";
  namespace: string;
  name: string;
  runId: string;
  harness: string;
  /** A Job's or pod's state, e.g. "Running", "active 2". */
  state?: string;
  /** Why it stays: its hub process is alive. */
  keptBecause?: string;
}

export interface KubeGcOptions {
  /** Also objects whose hub process is still running on this host. */
  all?: boolean;
  dryRun?: boolean;
  /** Only this run's objects. */
  runId?: string;
  /** Every namespace instead of the configured one. */
  allNamespaces?: boolean;
  kubernetes?: KubernetesOptions;
  /** How long to wait for the deleted pods to be gone (default 30 s; 0: do not wait). */
  waitMs?: number;
}


type Listed = { kind: KubeLeftover["kind"]; obj: { metadata?: k8s.V1ObjectMeta }; state?: string };

async function list(client: KubeClient, selector: string, allNamespaces: boolean): Promise<Listed[]> {
  const q = { labelSelector: selector };
  const ns = { ...q, namespace: client.namespace };
  const opts = within(CALL_TIMEOUT_MS);
  const [jobs, pods, cms, secrets] = await Promise.all([
    allNamespaces ? client.batch.listJobForAllNamespaces(q, opts) : client.batch.listNamespacedJob(ns, opts),
    allNamespaces ? client.core.listPodForAllNamespaces(q, opts) : client.core.listNamespacedPod(ns, opts),
    allNamespaces ? client.core.listConfigMapForAllNamespaces(q, opts) : client.core.listNamespacedConfigMap(ns, opts),
    allNamespaces ? client.core.listSecretForAllNamespaces(q, opts) : client.core.listNamespacedSecret(ns, opts),
  ]);
  return [
    ...jobs.items.map((j) => ({ kind: "Job" as const, obj: j, state: `active ${j.status?.active ?? 0}, succeeded ${j.status?.succeeded ?? 0}, failed ${j.status?.failed ?? 0}` })),
    ...pods.items.map((p) => ({ kind: "Pod" as const, obj: p, ...(p.status?.phase ? { state: p.status.phase } : {}) })),
    ...cms.items.map((c) => ({ kind: "ConfigMap" as const, obj: c })),
    ...secrets.items.map((s) => ({ kind: "Secret" as const, obj: s })),
  ];
}

async function remove(client: KubeClient, item: KubeLeftover): Promise<void> {
  const ref = { name: item.name, namespace: item.namespace };
  const opts = within(CALL_TIMEOUT_MS);
  try {
    if (item.kind === "Job") await client.batch.deleteNamespacedJob({ ...ref, propagationPolicy: "Foreground" }, opts);
    else if (item.kind === "Pod") await client.core.deleteNamespacedPod(ref, opts);
    else if (item.kind === "ConfigMap") await client.core.deleteNamespacedConfigMap(ref, opts);
    else await client.core.deleteNamespacedSecret(ref, opts);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export async function gc(opts: KubeGcOptions = {}): Promise<{ removed: KubeLeftover[]; kept: KubeLeftover[] }> {
  const { client } = await connectCluster(opts.kubernetes ?? {});
  const selector = runSelector(opts.runId);
  const me = labelValue(hostname());
  const removed: KubeLeftover[] = [];
  const kept: KubeLeftover[] = [];
  for (const { kind, obj, state } of await list(client, selector, opts.allNamespaces === true)) {
    const labels = obj.metadata?.labels ?? {};
    const item: KubeLeftover = {
      kind,
      namespace: obj.metadata?.namespace ?? client.namespace,
      name: obj.metadata?.name ?? "",
      runId: obj.metadata?.annotations?.[LABELS.runId] ?? labels[LABELS.runId] ?? "",
      harness: labels[LABELS.harness] ?? "",
      ...(state ? { state } : {}),
    };
    const pid = Number(labels[LABELS.pid]);
    if (!opts.all && labels[LABELS.host] === me && Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
      item.keptBecause = `hub process ${pid} is still running (--all removes it anyway)`;
      kept.push(item);
      continue;
    }
    if (!opts.dryRun) await remove(client, item);
    removed.push(item);
  }
  const waitMs = opts.waitMs ?? 30_000;
  if (!opts.dryRun && waitMs > 0 && removed.some((r) => r.kind === "Pod" || r.kind === "Job")) await podsGone(client, removed, waitMs);
  return { removed, kept };
}

/** Waits (bounded) until the removed pods and Jobs no longer exist. */
async function podsGone(client: KubeClient, removed: KubeLeftover[], waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  const pending = removed.filter((r) => r.kind === "Pod" || r.kind === "Job");
  while (Date.now() < deadline) {
    const still = await Promise.all(
      pending.map((r) =>
        (r.kind === "Pod" ? client.core.readNamespacedPod({ name: r.name, namespace: r.namespace }, within(CALL_TIMEOUT_MS)) : client.batch.readNamespacedJob({ name: r.name, namespace: r.namespace }, within(CALL_TIMEOUT_MS))).then(
          () => true,
          (e) => !isNotFound(e),
        ),
      ),
    );
    if (!still.some(Boolean)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
}
