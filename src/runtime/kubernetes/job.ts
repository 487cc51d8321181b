/**
 * The objects one execWorkers call creates: an Indexed Job (pod i is worker i), a ConfigMap with
 * each worker's invocation, and a Secret with the API key when hub has one. All carry hub's labels
 * (the Docker runtime's keys) so that `hub gc` finds what a crashed hub left.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type * as k8s from "@kubernetes/client-node";
import { LABELS } from "../docker/engine.ts";
import type { KubernetesOptions } from "../runtime.ts";
import { launchCommand, POD_PATHS } from "./pod-program.ts";

export { LABELS };

/** The harness container's name in every pod. */
export const CONTAINER = "harness";
/** Environment every harness pod gets (an upstream image may not set it). */
export const HARNESS_ENV = { PYTHONUNBUFFERED: "1", HF_HUB_OFFLINE: "1", TRANSFORMERS_OFFLINE: "1", HF_DATASETS_OFFLINE: "1" };
export const API_KEY_ENV = "OPENAI_API_KEY";
/** A ConfigMap holds at most 1 MiB; hub stops short of it with a clear message. */
export const CONFIG_LIMIT_BYTES = 900 * 1024;
/** Between SIGTERM and SIGKILL when a pod is deleted. */
const GRACE_S = 10;
/** A finished Job's leftovers go by themselves if hub could not delete them. */
const TTL_AFTER_FINISHED_S = 600;
/** The launcher waits this long for collection after the harness ends (pod-program.ts). */
const COLLECT_WAIT_S = 15 * 60;

/** One worker's part of the ConfigMap (worker-<i>.json), read by the pod's launcher. */
export interface WorkerSpec {
  argv: string[];
  env: Record<string, string>;
  /** Files written into /results before the harness starts, by relative path. */
  files: Record<string, string>;
  /** Host files the invocation names by absolute path, base64, written at the same path in the pod. */
  hostFiles: Record<string, string>;
}

export interface JobPlan {
  name: string;
  namespace: string;
  runId: string;
  harness: string;
  image: string;
  workers: WorkerSpec[];
  /** The tokenizer directory on the node. */
  tokenizerHostPath: string;
  /** Set when hub has an API key: the Secret's name. */
  secretName?: string;
  /** The Job's own deadline, a backstop should hub die with it running (seconds). */
  activeDeadlineSeconds?: number;
  options: KubernetesOptions;
}

/** A label value: at most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(s: string): string {
  const v = s.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  return v || "x";
}

/** A DNS label fragment: lowercase alphanumerics and dashes. */
const dnsPart = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-").replace(/^-|-$/g, "");

/**
 * hub-<run id>-<random>: unique per Job (a run with several stages makes one Job each). At most
 * 52 characters, so that "<job>-<index>", which the Job controller gives each pod as its
 * hostname, stays a valid 63-character label.
 */
export function jobName(runId: string): string {
  const suffix = randomBytes(3).toString("hex");
  const middle = dnsPart(runId).slice(0, 52 - "hub--".length - suffix.length).replace(/-$/, "");
  return middle ? `hub-${middle}-${suffix}` : `hub-${suffix}`;
}

export function runLabels(runId: string, harness: string): Record<string, string> {
  return {
    [LABELS.runId]: labelValue(runId),
    [LABELS.harness]: labelValue(harness),
    [LABELS.pid]: String(process.pid),
    [LABELS.host]: labelValue(hostname()),
  };
}

/** The label selector for everything of one run id, or of any run (`hub gc`). */
export const runSelector = (runId?: string) => (runId === undefined ? LABELS.runId : `${LABELS.runId}=${labelValue(runId)}`);

const metadata = (plan: JobPlan, name: string): k8s.V1ObjectMeta => ({
  name,
  namespace: plan.namespace,
  labels: runLabels(plan.runId, plan.harness),
  // The label is cut to 63 characters; the full run id is kept here.
  annotations: { [LABELS.runId]: plan.runId },
});

export function buildConfigMap(plan: JobPlan): k8s.V1ConfigMap {
  const data: Record<string, string> = {};
  plan.workers.forEach((w, i) => (data[`worker-${i}.json`] = JSON.stringify(w)));
  return { apiVersion: "v1", kind: "ConfigMap", metadata: metadata(plan, plan.name), data };
}

/** Bytes the ConfigMap's data takes. */
export const configMapSize = (cm: k8s.V1ConfigMap) => Object.entries(cm.data ?? {}).reduce((n, [k, v]) => n + k.length + Buffer.byteLength(v), 0);

export function buildSecret(plan: JobPlan, apiKey: string): k8s.V1Secret {
  return { apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: metadata(plan, plan.secretName!), stringData: { [API_KEY_ENV]: apiKey } };
}

function envVars(plan: JobPlan): k8s.V1EnvVar[] {
  const env: k8s.V1EnvVar[] = Object.entries(HARNESS_ENV).map(([name, value]) => ({ name, value }));
  // The key reaches the harness as the variable it reads, but never appears in the Job's spec.
  if (plan.secretName) env.push({ name: API_KEY_ENV, valueFrom: { secretKeyRef: { name: plan.secretName, key: API_KEY_ENV } } });
  return env;
}

function podSpec(plan: JobPlan): k8s.V1PodSpec {
  const o = plan.options;
  return {
    restartPolicy: "Never",
    // A cluster without a Service network, or a server on the node's loopback, is reached as is.
    hostNetwork: o.hostNetwork ?? true,
    dnsPolicy: (o.hostNetwork ?? true) ? "ClusterFirstWithHostNet" : "ClusterFirst",
    terminationGracePeriodSeconds: GRACE_S,
    // Hundreds of SERVICE_* variables in a busy namespace are noise to a harness.
    enableServiceLinks: false,
    ...(o.serviceAccount ? { serviceAccountName: o.serviceAccount } : { automountServiceAccountToken: false }),
    ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
    ...(o.tolerations ? { tolerations: o.tolerations as k8s.V1Toleration[] } : {}),
    containers: [
      {
        name: CONTAINER,
        image: plan.image,
        imagePullPolicy: o.imagePullPolicy ?? "IfNotPresent",
        command: launchCommand(),
        workingDir: POD_PATHS.results,
        env: envVars(plan),
        // No requests by default: a benchmark client is small, and a small test node has 2 cores.
        ...(o.resources ? { resources: o.resources } : {}),
        volumeMounts: [
          { name: "results", mountPath: POD_PATHS.results },
          { name: "config", mountPath: POD_PATHS.config, readOnly: true },
          { name: "tokenizer", mountPath: POD_PATHS.tokenizer, readOnly: true },
        ],
      },
    ],
    volumes: [
      { name: "results", emptyDir: {} },
      { name: "config", configMap: { name: plan.name } },
      // The tokenizer must be on the node at this path (true for a local cluster; elsewhere set
      // kubernetes.tokenizerHostPath to where the nodes have it).
      { name: "tokenizer", hostPath: { path: plan.tokenizerHostPath, type: "Directory" } },
    ],
  };
}

export function buildJob(plan: JobPlan): k8s.V1Job {
  const n = plan.workers.length;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadata(plan, plan.name),
    spec: {
      completionMode: "Indexed",
      completions: n,
      parallelism: n,
      // No retries, and a failed worker does not fail the others (per index, not per Job).
      backoffLimitPerIndex: 0,
      ttlSecondsAfterFinished: TTL_AFTER_FINISHED_S,
      ...(plan.activeDeadlineSeconds !== undefined ? { activeDeadlineSeconds: plan.activeDeadlineSeconds } : {}),
      template: { metadata: { labels: runLabels(plan.runId, plan.harness), annotations: { [LABELS.runId]: plan.runId } }, spec: podSpec(plan) },
    },
  };
}

/** The Job's deadline when hub has one: the run's own, plus time to collect and to stop. */
export const backstopDeadline = (timeoutMs: number | undefined) => (timeoutMs === undefined ? undefined : Math.ceil(timeoutMs / 1000) + COLLECT_WAIT_S + 60);

/** Makes the Job the owner, so that deleting it deletes the ConfigMap and Secret too. */
export const ownerReference = (job: k8s.V1Job): k8s.V1OwnerReference => ({
  apiVersion: "batch/v1",
  kind: "Job",
  name: job.metadata!.name!,
  uid: job.metadata!.uid!,
  controller: false,
  blockOwnerDeletion: false,
});
