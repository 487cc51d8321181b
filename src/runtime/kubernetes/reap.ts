/**
 * `node reap.ts '<json>'`: deletes the Jobs (with their ConfigMaps, Secrets and pods) a hub process
 * still owned when it exited abruptly (second Ctrl-C). Started detached by cleanup.ts's exit hook;
 * the JSON is a list of {namespace, name, secret, kubeconfig?}.
 */
import { KubeClient, loadKubeConfig } from "./client.ts";
import { deleteJobObjects, type JobObjects } from "./cleanup.ts";

const jobs = JSON.parse(process.argv[2] ?? "[]") as (JobObjects & { kubeconfig?: string })[];
await Promise.all(
  jobs.map(async (j) => {
    try {
      const client = new KubeClient(loadKubeConfig({ namespace: j.namespace, ...(j.kubeconfig ? { kubeconfig: j.kubeconfig } : {}) }));
      await deleteJobObjects(client, j);
    } catch {
      // `hub gc` is the last resort.
    }
  }),
);
