import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** run.json: written first and kept up to date, so a run that fails or is stopped still has one. */
export interface RunRecord {
  hub_version: string;
  run_id: string;
  status: "running" | "ok" | "failed" | "interrupted" | "timed_out";
  error?: string;
  harness: { name: string; pinned_version: string; installed_version: string | null };
  profile: { name: string; path: string; overrides: readonly string[] };
  target: string;
  target_is_simulator: boolean;
  model: string;
  runtime: string;
  /** Load generators; each worker's results are in native/worker-<i>/ when more than one. */
  parallel: number;
  workers: WorkerRecord[];
  commands: CommandRecord[];
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  warnings: string[];
  host: Record<string, unknown>;
}

export interface WorkerRecord {
  worker: number;
  seed: number;
  /** Where it ran (a pod on a node) and its clock minus hub's, where the runtime could tell. */
  placement?: string;
  clock_offset_s?: number;
}

export interface CommandRecord {
  argv: string[];
  env?: Record<string, string>;
  stage?: number;
  worker?: number;
  exit_code?: number | null;
  result?: string;
  reason?: string;
  duration_s?: number;
}

export class RunFile {
  readonly record: RunRecord;
  private readonly path: string;
  constructor(outDir: string, record: RunRecord) {
    this.path = join(outDir, "run.json");
    this.record = record;
    this.save();
  }

  save(): void {
    writeFileSync(this.path, `${JSON.stringify(this.record, null, 2)}\n`);
  }

  /** At the first Ctrl-C, so a second one that exits hub on the spot still leaves the right status. */
  markInterrupted(): void {
    if (this.record.status !== "running") return;
    this.record.status = "interrupted";
    this.record.ended_at = new Date().toISOString();
    this.save();
  }

  end(status: RunRecord["status"], error?: string): void {
    this.record.status = status;
    if (error !== undefined) this.record.error = error;
    this.record.ended_at = new Date().toISOString();
    this.save();
  }
}
