import type { HarnessDefinition, Invocation } from "../harness/contract.ts";
import type { ExecResult } from "./process.ts";

export type PrepareResult = { kind: "ok"; version: string } | { kind: "failed"; reason: string };

export interface ExecRequest {
  harness: HarnessDefinition;
  invocation: Invocation;
  /** The run's native/ directory: the harness's working directory and output folder. */
  nativeDir: string;
  /** The tokenizer directory on the host (a container mounts it read-only). */
  tokenizerDir: string;
  stdoutLog: string;
  stderrLog: string;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** The worker's index with --parallel (0-based); absent for a single generator. */
  worker?: number;
  /** Labels every object the runtime creates carries (run id, harness), for clean-up by label. */
  runId?: string;
}

/** One worker's end, with what the runtime learned about where it ran. */
export type WorkerResult = ExecResult & {
  /** Worker clock minus hub's clock, in seconds, where the runtime could measure it. */
  clockOffsetS?: number;
  /** Where it ran: a pod and node name, a container id. */
  placement?: string;
};

/** Options the CLI or hub.config.yaml give a runtime; each runtime reads the ones it knows. */
export interface RuntimeOptions {
  /** A container image to run instead of hub's own harness image. */
  image?: string;
  /** Kubernetes: namespace, kubeconfig file, resources, scheduling (see docs). */
  kubernetes?: KubernetesOptions;
}

export interface KubernetesOptions {
  namespace?: string;
  kubeconfig?: string;
  serviceAccount?: string;
  imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  nodeSelector?: Record<string, string>;
  tolerations?: Record<string, unknown>[];
  /** Pods use the node's network (a server on the node's loopback, a cluster without a Service network). */
  hostNetwork?: boolean;
  /** Host path of the tokenizer directory on the node, when it differs from hub's. */
  tokenizerHostPath?: string;
}

/** Paths as the harness process sees them (a container mounts the host's elsewhere). */
export interface HarnessPaths {
  outputDir: string;
  tokenizerDir: string;
}

/** Where a harness runs: a local venv today, a container or a Kubernetes job tomorrow. */
export interface Runtime {
  name: string;
  /** Maps host paths to the harness's view; the local runtime leaves them as they are. */
  harnessPaths?(host: { nativeDir: string; tokenizerDir: string }): HarnessPaths;
  /** Installs (or finds) the harness and checks its version; stops promptly when `signal` aborts. */
  prepare(harness: HarnessDefinition, onLine: (line: string) => void, signal?: AbortSignal): Promise<PrepareResult>;
  /** The exact command line, as recorded in run.json. */
  describe(harness: HarnessDefinition, invocation: Invocation): string[];
  exec(request: ExecRequest): Promise<ExecResult>;
  /**
   * Runs the workers of one invocation together (`--parallel N`): request i is worker i, each
   * with its own invocation, output folder and logs. Without it, hub runs exec() N times at once.
   */
  execWorkers?(requests: ExecRequest[]): Promise<WorkerResult[]>;
}
