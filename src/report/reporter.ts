import type { ExecResult } from "../runtime/process.ts";
import type { Metrics } from "../metrics/schema.ts";

export interface RunStartEvent {
  runId: string;
  outDir: string;
  harness: string;
  harnessVersion: string;
  profile: string;
  target: string;
  model: string;
  /** True when hub started its own simulator for this run. */
  simulated: boolean;
}

export type RunOutcome =
  | { kind: "ok"; outDir: string; metrics: Metrics; warnings: string[] }
  | { kind: "failed"; outDir: string; reason: string; exitCode: number | null; metrics?: Metrics }
  | { kind: "interrupted"; outDir: string; metrics?: Metrics }
  | { kind: "timed_out"; outDir: string; metrics?: Metrics };

/**
 * Every hook is optional: terminal output, JSON output and tests are all reporters of the same
 * event stream.
 */
export interface Reporter {
  onInfo?(message: string): void;
  onWarning?(message: string): void;
  onInstallLine?(line: string): void;
  onRunStart?(event: RunStartEvent): void;
  onHarnessStart?(event: { command: readonly string[]; stage?: number }): void;
  onHarnessOutput?(stream: "stdout" | "stderr", line: string): void;
  onHarnessEnd?(result: ExecResult): void;
  onRunEnd?(outcome: RunOutcome): void;
}

/** Fans one event out to several reporters. */
export function combineReporters(...reporters: Reporter[]): Required<Reporter> {
  const call =
    <K extends keyof Reporter>(key: K) =>
    (...args: Parameters<NonNullable<Reporter[K]>>) => {
      for (const r of reporters) (r[key] as ((...a: unknown[]) => void) | undefined)?.(...args);
    };
  return {
    onInfo: call("onInfo"),
    onWarning: call("onWarning"),
    onInstallLine: call("onInstallLine"),
    onRunStart: call("onRunStart"),
    onHarnessStart: call("onHarnessStart"),
    onHarnessOutput: call("onHarnessOutput"),
    onHarnessEnd: call("onHarnessEnd"),
    onRunEnd: call("onRunEnd"),
  };
}
