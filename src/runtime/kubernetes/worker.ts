/**
 * One worker of a Job run, from its pod's start to its result: wait for the pod to start (failing
 * fast when it cannot), follow its log, wait for the harness to end, copy /results out, let the
 * pod go and read its exit code. Every wait but the harness's own is bounded.
 */
import { basename, dirname } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import type { ExecRequest, WorkerResult } from "../runtime.ts";
import { apiFailure, CALL_TIMEOUT_MS, within, type KubeClient } from "./client.ts";
import { copyResults } from "./collect.ts";
import { containerStatus, describeTermination, diagnose, type DiagnoseContext } from "./diagnose.ts";
import { clockOffset, harnessState, signalLauncher } from "./exec.ts";
import { PodLog } from "./logs.ts";
import { API_LOSS_LIMIT_MS, type JobPods } from "./pods.ts";

/** How a Job run is being stopped: `timed_out` first asks the harnesses to stop, `interrupted` does not. */
export class StopState {
  why: "interrupted" | "timed_out" | undefined;
  hard = false;
  private wake!: () => void;
  /** Resolves on a hard stop: every wait ends. */
  readonly hardened = new Promise<void>((r) => (this.wake = r));

  request(why: "interrupted" | "timed_out", hard: boolean): void {
    this.why ??= why;
    if (hard && !this.hard) {
      this.hard = true;
      this.wake();
    }
  }
}

export interface WorkerContext {
  client: KubeClient;
  pods: JobPods;
  job: string;
  diag: DiagnoseContext;
  stop: StopState;
  /** performance.now() when the run started. */
  started: number;
  memoryLimit?: string;
}

/** An unschedulable pod gets this long for the cluster to make room (autoscaler, evictions). */
const UNSCHEDULABLE_LIMIT_MS = 30_000;
/** The Job controller creates pods in well under this. */
const NO_POD_LIMIT_MS = 120_000;
/** Kubelet warnings that keep a pod from starting; one that lasts this long is not transient. */
const SETUP_FAILURES = ["FailedMount", "FailedAttachVolume", "FailedCreatePodSandBox"];
const SETUP_FAILURE_LIMIT_MS = 15_000;
const STATUS_INTERVAL_MS = 1000;

const sleep = (ms: number) =>
  new Promise<undefined>((r) => {
    const t: NodeJS.Timeout = setTimeout(() => r(undefined), ms);
    t.unref();
  });

type End =
  | { kind: "stopped"; exitCode: number | null }
  | { kind: "failed"; reason: string; exitCode: number | null; signal?: string }
  | { kind: "ok" };

export class WorkerRun {
  private readonly ctx: WorkerContext;
  private readonly index: number;
  private readonly req: ExecRequest;
  private readonly log: PodLog;
  private podName: string | undefined;
  private node: string | undefined;
  private clock: Promise<number | undefined> = Promise.resolve(undefined);
  /** The clock offset, once measured. */
  private offset: { clockOffsetS?: number } = {};
  /** The harness ended before any stop was asked for: its own result stands. */
  private endedOnItsOwn = false;

  constructor(ctx: WorkerContext, index: number, req: ExecRequest) {
    this.ctx = ctx;
    this.index = index;
    this.req = req;
    this.log = new PodLog(req.stdoutLog, req.onLine);
  }

  async run(): Promise<WorkerResult> {
    let end: End;
    try {
      end = await this.lifecycle();
      if (!this.ctx.stop.why) this.endedOnItsOwn = true;
    } catch (e) {
      end = { kind: "failed", reason: `Kubernetes: ${apiFailure(e).message}`, exitCode: null };
    }
    // A stopped run's log is cut sooner: its pods are about to be deleted.
    await this.log.close(this.ctx.stop.hard ? 3000 : 10_000);
    return this.result(end);
  }

  private result(end: End): WorkerResult {
    const durationMs = performance.now() - this.ctx.started;
    const where = this.podName ? { placement: `pod ${this.podName} on node ${this.node ?? "?"}` } : {};
    const exitCode = end.kind === "ok" ? 0 : end.exitCode;
    const stopped = this.ctx.stop.why && !this.endedOnItsOwn ? this.ctx.stop.why : undefined;
    if (stopped) return { kind: stopped, exitCode, durationMs, ...where, ...this.offset };
    if (end.kind === "ok") return { kind: "ok", exitCode: 0, durationMs, ...where, ...this.offset };
    if (end.kind === "stopped") return { kind: "interrupted", exitCode, durationMs, ...where, ...this.offset };
    return { kind: "failed", exitCode, reason: end.reason, ...(end.signal ? { signal: end.signal } : {}), durationMs, ...where, ...this.offset };
  }

  private async lifecycle(): Promise<End> {
    const start = await this.waitForStart();
    if (start.kind !== "started") return start;
    const pod = start.pod;
    this.podName = pod.metadata!.name!;
    this.node = pod.spec?.nodeName;
    this.log.start(this.ctx.client, this.podName, async () => this.containerRunning());
    this.clock = clockOffset(this.ctx.client, this.podName).catch(() => undefined);

    const harness = await this.waitForHarness();
    // Measured long ago unless the harness was quick; a stopped run does not wait for it.
    const offset = await Promise.race([this.clock, sleep(this.ctx.stop.hard ? 0 : 20_000)]);
    if (offset !== undefined) this.offset = { clockOffsetS: offset };
    if (harness.kind !== "exited") return harness;

    const copy = await copyResults(this.ctx.client, this.podName, this.req.nativeDir, { skip: this.ownLogs() });
    await signalLauncher(this.ctx.client, this.podName, "collected");
    const terminated = await this.waitForTermination();
    const exitCode = terminated?.exitCode ?? harness.code;
    if (copy.kind === "failed") return { kind: "failed", reason: copy.reason, exitCode };
    if (copy.skipped.length > 0) this.req.onLine?.("stderr", `hub: not copied from pod ${this.podName}: ${copy.skipped.join(", ")}`);
    if (exitCode === 0) return { kind: "ok" };
    const argv0 = this.req.invocation.argv[0] ?? "the harness";
    if (harness.why) return { kind: "failed", reason: `${argv0} could not be started in image ${this.ctx.diag.image}: ${harness.why}`, exitCode };
    const t = terminated ?? { exitCode };
    return { kind: "failed", exitCode, ...describeTermination(t, `${argv0} in pod ${this.podName}`, this.ctx.memoryLimit) };
  }

  /** hub's own log files when they are in the native folder: a harness file of that name is not copied over them. */
  private ownLogs(): string[] {
    return [this.req.stdoutLog, this.req.stderrLog].filter((f) => dirname(f) === this.req.nativeDir).map((f) => basename(f));
  }

  private stopped(): End {
    return { kind: "stopped", exitCode: null };
  }

  private async waitForStart(): Promise<{ kind: "started"; pod: k8s.V1Pod } | End> {
    const { pods, stop } = this.ctx;
    const since = Date.now();
    let unschedulableSince: number | undefined;
    let setupFailingSince: number | undefined;
    let eventsAt = 0;
    for (;;) {
      // Stopped before its harness ran: nothing to wait for, soft stop or not.
      if (stop.why) return this.stopped();
      await pods.next(stop.hardened);
      if (stop.why) return this.stopped();
      if (pods.apiLostForMs() > API_LOSS_LIMIT_MS) return this.apiLost();
      const pod = pods.pod(this.index);
      const now = Date.now();
      if (!pod) {
        if (pods.seen(this.index)) return { kind: "failed", reason: `worker ${this.index}'s pod was deleted before the harness ran`, exitCode: null };
        if (now - since > 5000 && now - eventsAt > 5000) {
          eventsAt = now;
          const refused = await this.warning("Job", this.ctx.job, ["FailedCreate"]);
          if (refused) return { kind: "failed", reason: `the Job could not create worker ${this.index}'s pod: ${refused}`, exitCode: null };
        }
        if (now - since > NO_POD_LIMIT_MS) return { kind: "failed", reason: `the Job created no pod for worker ${this.index} within ${NO_POD_LIMIT_MS / 1000} s`, exitCode: null };
        continue;
      }
      const view = diagnose(pod, this.ctx.diag);
      if (view.kind === "started") return { kind: "started", pod };
      if (view.kind === "failed") return { kind: "failed", reason: view.reason, exitCode: null };
      const name = pod.metadata?.name ?? "?";
      if (view.unschedulable) {
        unschedulableSince ??= now;
        if (now - unschedulableSince > UNSCHEDULABLE_LIMIT_MS) {
          return { kind: "failed", reason: `pod ${name} cannot be scheduled (for ${UNSCHEDULABLE_LIMIT_MS / 1000} s): ${view.unschedulable}`, exitCode: null };
        }
      } else unschedulableSince = undefined;
      if (pod.spec?.nodeName && now - since > 5000 && now - eventsAt > 3000) {
        eventsAt = now;
        const setup = await this.warning("Pod", name, SETUP_FAILURES);
        setupFailingSince = setup ? (setupFailingSince ?? now) : undefined;
        if (setup && now - setupFailingSince! > SETUP_FAILURE_LIMIT_MS) {
          const hint = /tokenizer/i.test(setup) ? " (the tokenizer directory must exist on the node: set kubernetes.tokenizerHostPath to where the nodes have it)" : "";
          return { kind: "failed", reason: `pod ${name} cannot start: ${setup}${hint}`, exitCode: null };
        }
      }
    }
  }

  private async waitForHarness(): Promise<{ kind: "exited"; code: number; why?: string } | End> {
    const { pods, stop, client } = this.ctx;
    let statusAt = 0;
    let stopSent = false;
    for (;;) {
      if (stop.hard) return this.stopped();
      // The harness is told to stop as Ctrl-C would tell it; its results are still collected.
      if (stop.why && !stopSent) {
        stopSent = true;
        await signalLauncher(client, this.podName!, "stop");
      }
      await pods.next(stop.hardened);
      if (stop.hard) return this.stopped();
      if (pods.apiLostForMs() > API_LOSS_LIMIT_MS) return this.apiLost();
      const pod = pods.pod(this.index);
      if (!pod) return { kind: "failed", reason: `pod ${this.podName} disappeared while the harness ran (deleted or evicted)`, exitCode: null };
      const terminated = containerStatus(pod)?.state?.terminated;
      if (terminated) {
        // The launcher exits only after the copy, so the harness's output is lost with the pod.
        const what = `pod ${this.podName}'s container`;
        const d = describeTermination(terminated, what, this.ctx.memoryLimit);
        return { kind: "failed", reason: `${d.reason} before hub could copy the results out (its log: ${this.req.stdoutLog})`, exitCode: terminated.exitCode, ...(d.signal ? { signal: d.signal } : {}) };
      }
      if (Date.now() - statusAt < STATUS_INTERVAL_MS) continue;
      statusAt = Date.now();
      const state = await harnessState(client, this.podName!);
      if (state.kind === "exited") {
        this.endedOnItsOwn = !stop.why;
        return state;
      }
    }
  }

  /** Waits (at most 30 s) for the container to end after the copy; its terminated state. */
  private async waitForTermination(): Promise<k8s.V1ContainerStateTerminated | undefined> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !this.ctx.stop.hard) {
      await this.ctx.pods.next(this.ctx.stop.hardened);
      const terminated = containerStatus(this.ctx.pods.pod(this.index) ?? {})?.state?.terminated;
      if (terminated) return terminated;
    }
    return undefined;
  }

  private async containerRunning(): Promise<boolean> {
    const pod = await this.ctx.client.core.readNamespacedPod({ name: this.podName!, namespace: this.ctx.client.namespace }, within(CALL_TIMEOUT_MS));
    return containerStatus(pod)?.state?.running !== undefined;
  }

  private apiLost(): End {
    return { kind: "failed", reason: `lost the Kubernetes API server for over ${API_LOSS_LIMIT_MS / 1000} s (${this.ctx.pods.lastError})`, exitCode: null };
  }

  /** The newest warning event of the given reasons about an object, as its message. */
  private async warning(kind: string, name: string, reasons: string[]): Promise<string | undefined> {
    try {
      const events = await this.ctx.client.core.listNamespacedEvent(
        { namespace: this.ctx.client.namespace, fieldSelector: `involvedObject.kind=${kind},involvedObject.name=${name},type=Warning` },
        within(CALL_TIMEOUT_MS),
      );
      const hit = events.items.filter((e) => reasons.includes(e.reason ?? "")).at(-1);
      return hit ? `${hit.reason}: ${hit.message ?? ""}`.trim() : undefined;
    } catch {
      return undefined;
    }
  }
}
