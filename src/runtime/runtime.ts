import type { HarnessDefinition, Invocation } from "../harness/contract.ts";
import type { ExecResult } from "./process.ts";

export type PrepareResult = { kind: "ok"; version: string } | { kind: "failed"; reason: string };

export interface ExecRequest {
  harness: HarnessDefinition;
  invocation: Invocation;
  /** The run's native/ directory: the harness's working directory and output folder. */
  nativeDir: string;
  stdoutLog: string;
  stderrLog: string;
  onLine?: (stream: "stdout" | "stderr", line: string) => void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Where a harness runs: a local venv today, a container or a Kubernetes job tomorrow. */
export interface Runtime {
  name: string;
  /** Installs (or finds) the harness and checks its version. */
  prepare(harness: HarnessDefinition, onLine: (line: string) => void): Promise<PrepareResult>;
  /** The exact command line, as recorded in run.json. */
  describe(harness: HarnessDefinition, invocation: Invocation): string[];
  exec(request: ExecRequest): Promise<ExecResult>;
}
