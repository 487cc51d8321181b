/**
 * The pods of one Job, listed every second (one request for all workers), by completion index.
 * A worker sticks to the first pod it saw for its index; another for the same index (a retry on a
 * cluster that ignores backoffLimitPerIndex) is ignored and deleted with the Job.
 */
import type * as k8s from "@kubernetes/client-node";
import { apiFailure, CALL_TIMEOUT_MS, within, type KubeClient } from "./client.ts";

const INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** The API server may be away this long before the workers give up on it. */
export const API_LOSS_LIMIT_MS = 120_000;

export class JobPods {
  private readonly client: KubeClient;
  private readonly job: string;
  private readonly intervalMs: number;
  private readonly current = new Map<number, k8s.V1Pod>();
  /** The pod each index is bound to, by uid. */
  private readonly chosen = new Map<number, string>();
  private waiters: (() => void)[] = [];
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private lastOk = Date.now();
  lastError: string | undefined;

  constructor(client: KubeClient, job: string, intervalMs = 1000) {
    this.client = client;
    this.job = job;
    this.intervalMs = intervalMs;
  }

  start(): void {
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      await this.refresh();
      const wake = this.waiters;
      this.waiters = [];
      wake.forEach((w) => w());
      if (this.closed) break;
      await new Promise<void>((r) => (this.timer = setTimeout(r, this.intervalMs)));
    }
  }

  private async refresh(): Promise<void> {
    try {
      const list = await this.client.core.listNamespacedPod({ namespace: this.client.namespace, labelSelector: `job-name=${this.job}` }, within(CALL_TIMEOUT_MS));
      this.current.clear();
      const sorted = [...list.items].sort((a, b) => String(a.metadata?.creationTimestamp ?? "").localeCompare(String(b.metadata?.creationTimestamp ?? "")));
      for (const pod of sorted) {
        const index = Number(pod.metadata?.annotations?.[INDEX_ANNOTATION] ?? pod.metadata?.labels?.[INDEX_ANNOTATION]);
        if (!Number.isInteger(index)) continue;
        const uid = pod.metadata?.uid ?? "";
        if (!this.chosen.has(index)) this.chosen.set(index, uid);
        if (this.chosen.get(index) === uid) this.current.set(index, pod);
      }
      this.lastOk = Date.now();
      this.lastError = undefined;
    } catch (e) {
      this.lastError = apiFailure(e).message;
    }
  }

  /** Worker i's pod as last listed; undefined before it exists and after it is gone. */
  pod(index: number): k8s.V1Pod | undefined {
    return this.current.get(index);
  }

  /** Whether worker i has had a pod (so that undefined now means it is gone). */
  seen(index: number): boolean {
    return this.chosen.has(index);
  }

  /** How long the listing has been failing (0 when it works). */
  apiLostForMs(): number {
    return this.lastError === undefined ? 0 : Date.now() - this.lastOk;
  }

  /** Resolves after the next listing, or at once when `until` resolves or the poller is closed. */
  next(until?: Promise<unknown>): Promise<void> {
    if (this.closed) return Promise.resolve();
    const listed = new Promise<void>((r) => this.waiters.push(r));
    return until ? Promise.race([listed, until.then(() => {})]) : listed;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    const wake = this.waiters;
    this.waiters = [];
    wake.forEach((w) => w());
  }
}
