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
}
