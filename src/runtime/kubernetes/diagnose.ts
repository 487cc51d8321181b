/**
 * What a harness pod's status says, before its harness runs: still coming (scheduling, pulling,
 * mounting), started, or never going to start (and why, in words a user can act on).
 */
import type * as k8s from "@kubernetes/client-node";
import { CONTAINER } from "./job.ts";

export type PodView =
  | { kind: "pending"; why: string; unschedulable?: string }
  | { kind: "started" }
  | { kind: "failed"; reason: string };

/** Waiting reasons that mean the image will not come (kubelet's and the CRI's). */
const IMAGE_ERRORS = new Set(["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "ImageInspectError", "RegistryUnavailable", "SignatureValidationFailed"]);
/** Waiting reasons that mean the container cannot be created or started as specified. */
const START_ERRORS = new Set(["CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreCreateHookError", "PreStartHookError"]);

export interface DiagnoseContext {
  image: string;
  harness: string;
  /** Whether the image is hub's own (built by `hub harness build`). */
  ownImage: boolean;
}

export const containerStatus = (pod: k8s.V1Pod) => pod.status?.containerStatuses?.find((c) => c.name === CONTAINER);

/** How to get an image onto a node, for the message of a pod that cannot get it. */
export function imageHint(ctx: DiagnoseContext): string {
  const build = ctx.ownImage ? `\`hub harness build ${ctx.harness}\`, then ` : "";
  return (
    `For a local cluster: ${build}\`bash scripts/kube-cluster.sh import ${ctx.image}\` (the pods use imagePullPolicy IfNotPresent). ` +
    "For another cluster: push the image to a registry its nodes pull from and give --image <registry>/<name>:<tag>."
  );
}

export function diagnose(pod: k8s.V1Pod, ctx: DiagnoseContext): PodView {
  const name = pod.metadata?.name ?? "?";
  const node = pod.spec?.nodeName;
  const state = containerStatus(pod)?.state;
  if (state?.running || state?.terminated) return { kind: "started" };
  const waiting = state?.waiting;
  if (waiting?.reason && IMAGE_ERRORS.has(waiting.reason)) {
    return {
      kind: "failed",
      reason: `image ${ctx.image} is not on node ${node ?? "?"} and cannot be pulled (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""}). ${imageHint(ctx)}`,
    };
  }
  if (waiting?.reason && START_ERRORS.has(waiting.reason)) {
    return { kind: "failed", reason: `pod ${name} cannot start its container (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ""})` };
  }
  if (pod.status?.phase === "Failed") {
    const why = [pod.status.reason, pod.status.message].filter(Boolean).join(": ");
    return { kind: "failed", reason: `pod ${name} failed before the harness ran${why ? ` (${why})` : ""}` };
  }
  if (pod.metadata?.deletionTimestamp) return { kind: "failed", reason: `pod ${name} was deleted before the harness ran` };
  const scheduled = pod.status?.conditions?.find((c) => c.type === "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") {
    return { kind: "pending", why: "unschedulable", unschedulable: scheduled.message ?? "no node fits" };
  }
  return { kind: "pending", why: waiting?.reason ?? (node ? "starting" : "scheduling") };
}

/** Why a container that has ended did, in words. */
export function describeTermination(t: k8s.V1ContainerStateTerminated, what: string, memoryLimit?: string): { reason: string; signal?: string } {
  if (t.reason === "OOMKilled") return { reason: `${what} was killed by the kernel's OOM killer${memoryLimit ? ` (memory limit ${memoryLimit})` : ""}, exit code ${t.exitCode}`, signal: "SIGKILL" };
  const signal = t.signal ? `signal ${t.signal}` : t.exitCode > 128 && t.exitCode < 160 ? SIGNALS[t.exitCode - 128] ?? `signal ${t.exitCode - 128}` : undefined;
  if (signal) return { reason: `${what} was killed by ${signal} (exit code ${t.exitCode})`, signal };
  const detail = [t.reason, t.message?.trim()].filter((s) => s && s !== "Error" && s !== "Completed").join(": ");
  return { reason: `${what} exited with code ${t.exitCode}${detail ? ` (${detail})` : ""}` };
}

export const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM" };
