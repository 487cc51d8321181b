/** calibration.json: what `hub calibrate` measured, per simulator setting and harness. */
import type { Alignment } from "./align.ts";
import type { Check, ErrorEntry } from "./errors.ts";
import type { CalibrationSetting } from "./settings.ts";
import type { Observation } from "./truth.ts";

export interface CalibrationRun {
  harness: string;
  /** The harness version metrics.json names, when the run got that far. */
  version: string | null;
  status: "ok" | "failed" | "interrupted" | "timed_out";
  reason?: string;
  /** The run's own directory (profile, native output, metrics.json, run.json, sim-trace.jsonl). */
  run_dir: string | null;
  wall_s: number;
  /** The simulator's latency model applied to the requests it served. */
  nominal?: Observation;
  /** Ground truth from the run's sim-trace.jsonl. */
  truth?: Observation;
  /** The harness's normalised metrics.json (stage 0). */
  measured?: Observation;
  errors?: ErrorEntry[];
  checks?: Check[];
  /** The harness's TTFT minus the server's, split per request into send and receive delays. */
  ttft_split?: Alignment;
  /** Anything that makes the comparison less than like for like. */
  notes: string[];
  /** The run finished and every check passed. */
  ok: boolean;
}

export interface SettingResult {
  setting: CalibrationSetting;
  runs: CalibrationRun[];
}

export interface CalibrationResult {
  hub_version: string;
  started_at: string;
  ended_at: string;
  out_dir: string;
  profile: { name: string; overrides: string[] };
  requests: number;
  tolerance: number;
  /** Harnesses not calibrated by default: they cannot run the profile, or are not installed. */
  left_out: { harness: string; reason: string }[];
  settings: SettingResult[];
  ok: boolean;
}
