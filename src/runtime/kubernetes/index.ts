/**
 * `hub run --runtime kubernetes`: the workers run as one Indexed Job (pod i is worker i) in the
 * harness's image, hub's own (`hub harness build`, the Docker runtime's images) or a user's
 * `--image`. Each pod gets its invocation from a ConfigMap, writes to an emptyDir at /results that
 * hub copies out over exec when the harness ends, reads the tokenizer from a hostPath at
 * /tokenizer, and uses the node's network by default. Everything is labelled with the run id and
 * deleted at the end; `hub gc` (gc.ts) removes what a killed hub left.
 *
 * Needs: a kubeconfig (see client.ts), python3 in the image, the image on the nodes or pullable,
 * and the tokenizer directory on the nodes (kubernetes.tokenizerHostPath when not at hub's path:
 * fine for a local cluster, a shared path or a node-local copy elsewhere).
 */
import type { HarnessDefinition } from "../../harness/contract.ts";
import { defaultBaseImage, imageRef, imageSource } from "../docker/build.ts";
import type { ExecRequest, Runtime, RuntimeOptions, WorkerResult } from "../runtime.ts";
import { apiFailure, checkNamespace, connectCluster, type KubeClient } from "./client.ts";
import { API_KEY_ENV } from "./job.ts";
import { runJob } from "./job-run.ts";
import { POD_PATHS } from "./pod-program.ts";

export { gc, type KubeGcOptions, type KubeLeftover } from "./gc.ts";

export function createKubernetesRuntime(options: RuntimeOptions = {}): Runtime {
  const k = options.kubernetes ?? {};
  // A harness that ships with hub (no packages) runs in the base image, its script shipped in the
  // ConfigMap; any other in hub's image of it, unless the user gives one.
  const imageFor = (harness: HarnessDefinition) => options.image ?? (imageSource(harness) === "none" ? defaultBaseImage(harness) : imageRef(harness));

  let connection: Promise<KubeClient> | undefined;
  const connect = (): Promise<KubeClient> => {
    if (!connection) {
      const c = connectCluster(k).then((r) => r.client);
      connection = c;
      // A failed connection is not remembered: the next call tries again.
      c.catch(() => {
        if (connection === c) connection = undefined;
      });
    }
    return connection;
  };

  const execWorkers = async (requests: ExecRequest[]): Promise<WorkerResult[]> => {
    if (requests.length === 0) return [];
    let client: KubeClient;
    try {
      client = await connect();
    } catch (e) {
      const reason = e instanceof Error ? e.message : apiFailure(e).message;
      return requests.map(() => ({ kind: "failed", exitCode: null, reason, durationMs: 0 }));
    }
    const harness = requests[0]!.harness;
    const image = imageFor(harness);
    return runJob(client, requests, { image, diag: { image, harness: harness.name, ownImage: options.image === undefined }, options: k });
  };

  return {
    name: "kubernetes",

    harnessPaths: () => ({ outputDir: POD_PATHS.results, tokenizerDir: POD_PATHS.tokenizer }),

    async prepare(harness, onLine) {
      // Connection and namespace problems are the user's to fix: UserErrors, thrown.
      const { client, version } = await connectCluster(k);
      connection ??= Promise.resolve(client);
      await checkNamespace(client, { secrets: process.env[API_KEY_ENV] !== undefined });
      onLine(`Kubernetes ${version} at ${client.describe()}, namespace ${client.namespace}`);
      const image = imageFor(harness);
      // The API cannot tell whether a node has an image; a pod that cannot get it fails fast.
      onLine(`image ${image} (imagePullPolicy ${k.imagePullPolicy ?? "IfNotPresent"}): it must be on the nodes or pullable by them`);
      return { kind: "ok", version: harness.version };
    },

    describe(harness, invocation) {
      return ["kubernetes-job", imageFor(harness), ...invocation.argv];
    },

    async exec(request) {
      const [result] = await execWorkers([request]);
      return result!;
    },

    execWorkers,
  };
}

export type ClusterStatus = { ok: true; server: string; version: string; namespace: string; source: string } | { ok: false; reason: string };

/** Whether a cluster answers with the resolved kubeconfig, and if not why (tests skip or fail on it). */
export async function clusterStatus(k: RuntimeOptions["kubernetes"] = {}): Promise<ClusterStatus> {
  try {
    const { client, version } = await connectCluster(k);
    return { ok: true, server: client.target.server, version, namespace: client.namespace, source: client.target.source };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

export async function kubernetesAvailable(k: RuntimeOptions["kubernetes"] = {}): Promise<boolean> {
  return (await clusterStatus(k)).ok;
}
