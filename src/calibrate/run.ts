/**
 * hub calibrate: every chosen harness runs the same request-bounded workload against hub's
 * simulator at each setting, each run with its own simulator and trace; each harness's
 * normalised metrics are compared with its run's trace.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isUserError, UserError } from "../errors.ts";
import { allHarnesses, checkCapabilities, getHarness } from "../harness/registry.ts";
import type { HarnessDefinition } from "../harness/contract.ts";
import { loadProfile } from "../profile/load.ts";
import type { Reporter } from "../report/reporter.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { runBenchmark } from "../run/run.ts";
import { isInstalled } from "../runtime/python.ts";
import type { TraceRecord } from "../sim/index.ts";
import { HUB_VERSION } from "../version.ts";
import type { Profile } from "../profile/schema.ts";
import { alignToTrace } from "./align.ts";
import { checksFor, compareObservations } from "./errors.ts";
import { calibrationSettings, checkCalibratable, DEFAULT_PROFILE, DEFAULT_REQUESTS, DEFAULT_TOLERANCE, requestBoundOverrides, type CalibrationSetting } from "./settings.ts";
import { LATENCY_KEYS, nominalFor, observationFromStage, truthFromTrace } from "./truth.ts";
import type { CalibrationResult, CalibrationRun, SettingResult } from "./types.ts";

export interface CalibrateOptions {
  /** Names, or definitions (plugins, tests). Default: every registered harness that can run the profile. */
  harnesses?: readonly (string | HarnessDefinition)[];
  profile?: string;
  overrides?: readonly string[];
  /** Requests per stage, replacing the profile's duration; 0 keeps the profile's own bounds. */
  requests?: number;
  settings?: readonly CalibrationSetting[];
  tolerance?: number;
  /** Default results/calibrate-<timestamp>/. */
  out?: string;
  runtime?: string | Runtime;
  /** Per run. */
  timeoutS?: number;
  signal?: AbortSignal;
}

export interface CalibrateEvents {
  /** Forwarded to every runBenchmark (install progress, harness output, warnings). */
  reporter?: Reporter;
  onRunStart?(setting: CalibrationSetting, harness: string, runDir: string): void;
  onRunEnd?(setting: CalibrationSetting, run: CalibrationRun): void;
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-");
}

export function readTrace(path: string): TraceRecord[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as TraceRecord);
}

/** Why a harness cannot run the profile, or undefined when it can. Nothing runs. */
function refusal(h: HarnessDefinition, profileName: string, overrides: readonly string[]): string | undefined {
  const { profile } = loadProfile(profileName, overrides);
  try {
    checkCapabilities(h, profile);
  } catch (e) {
    if (isUserError(e)) return (e as Error).message;
    throw e;
  }
  const t = h.translate(profile, { target: "http://127.0.0.1:1", model: "hub-sim", tokenizerDir: "/tokenizer", outputDir: "/native" });
  return t.kind === "unsupported" ? `harness ${h.name} cannot run profile ${profile.name}: ${t.reason}` : undefined;
}

export async function calibrate(opts: CalibrateOptions = {}, events: CalibrateEvents = {}): Promise<CalibrationResult> {
  const profileName = opts.profile ?? DEFAULT_PROFILE;
  const userOverrides = [...(opts.overrides ?? [])];
  const requests = opts.requests ?? DEFAULT_REQUESTS;
  if (!Number.isInteger(requests) || requests < 0) throw new UserError(`--requests must be a whole number >= 0, got ${requests}`);
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  if (!(tolerance > 0 && tolerance < 1)) throw new UserError(`--tolerance must be a fraction between 0 and 1, got ${tolerance}`);
  const settings = opts.settings ?? calibrationSettings();
  if (settings.length === 0) throw new UserError("calibrate needs at least one simulator setting");

  const { profile: base } = loadProfile(profileName, userOverrides);
  checkCalibratable(base);
  const overrides = [...userOverrides, ...requestBoundOverrides(base, requests)];
  const { profile } = loadProfile(profileName, overrides);

  // Harnesses named explicitly must be able to run the profile (and are installed if need be, as
  // by hub run). By default: the installed ones that can run it; the rest are listed as left out.
  const explicit = opts.harnesses !== undefined && opts.harnesses.length > 0;
  const candidates = explicit ? dedupe(opts.harnesses!.map((h) => (typeof h === "string" ? getHarness(h) : h))) : [...allHarnesses()];
  const localRuntime = opts.runtime === undefined || opts.runtime === "local";
  const leftOut: { harness: string; reason: string }[] = [];
  const harnesses: HarnessDefinition[] = [];
  for (const h of candidates) {
    const why = refusal(h, profileName, overrides);
    if (why !== undefined) {
      if (explicit) throw new UserError(`${why}${requests === 0 ? " (calibrate's --requests would make every stage request-bounded)" : ""}`);
      leftOut.push({ harness: h.name, reason: why });
    } else if (!explicit && localRuntime && !isInstalled(h)) {
      leftOut.push({ harness: h.name, reason: `not installed (hub harness install ${h.name}, or name it with --harness)` });
    } else harnesses.push(h);
  }
  if (harnesses.length === 0) {
    throw new UserError(
      `no installed harness can run profile ${profile.name}: ${leftOut.map((l) => `${l.harness}: ${l.reason}`).join("; ")}. ` +
        "Install one (hub harness install guidellm) or name harnesses with --harness",
    );
  }

  const started = new Date();
  const outDir = resolve(opts.out ?? join("results", `calibrate-${timestamp(started)}`));
  if (existsSync(join(outDir, "calibration.json"))) throw new UserError(`${outDir} already holds a calibration (calibration.json); choose another --out`);
  mkdirSync(outDir, { recursive: true });

  const result: CalibrationResult = {
    hub_version: HUB_VERSION,
    started_at: started.toISOString(),
    ended_at: started.toISOString(),
    out_dir: outDir,
    profile: { name: profile.name, overrides },
    requests,
    tolerance,
    left_out: leftOut,
    settings: settings.map((setting): SettingResult => ({ setting, runs: [] })),
    ok: false,
  };
  const save = () => {
    result.ended_at = new Date().toISOString();
    result.ok = result.settings.every((s) => s.runs.length === harnesses.length && s.runs.every((r) => r.ok));
    writeFileSync(join(outDir, "calibration.json"), `${JSON.stringify(result, null, 2)}\n`);
  };
  save();

  for (const sr of result.settings) {
    for (const h of harnesses) {
      if (opts.signal?.aborted) break;
      const runDir = join(outDir, `${sr.setting.name}-${h.name}`);
      events.onRunStart?.(sr.setting, h.name, runDir);
      const run = await calibrateOne(h, sr.setting, runDir, profileName, overrides, profile, tolerance, opts, events.reporter ?? {});
      sr.runs.push(run);
      save();
      events.onRunEnd?.(sr.setting, run);
    }
  }
  save();
  return result;
}

const dedupe = (hs: HarnessDefinition[]) => hs.filter((h, i) => hs.findIndex((x) => x.name === h.name) === i);

async function calibrateOne(
  harness: HarnessDefinition,
  setting: CalibrationSetting,
  runDir: string,
  profile: string,
  overrides: readonly string[],
  profileDoc: Profile,
  tolerance: number,
  opts: CalibrateOptions,
  reporter: Reporter,
): Promise<CalibrationRun> {
  const t0 = Date.now();
  const run: CalibrationRun = { harness: harness.name, version: null, status: "failed", run_dir: runDir, wall_s: 0, notes: [], ok: false };
  try {
    const outcome = await runBenchmark(
      {
        harness,
        profile,
        overrides,
        out: runDir,
        ...(opts.runtime ? { runtime: opts.runtime } : {}),
        sim: { ttftMs: setting.ttftMs, itlMs: setting.itlMs, ttftJitterMs: setting.ttftJitterMs, itlJitterMs: setting.itlJitterMs, seed: setting.seed },
        ...(opts.timeoutS !== undefined ? { timeoutS: opts.timeoutS } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      reporter,
    );
    run.status = outcome.kind;
    if (outcome.kind === "failed") run.reason = outcome.reason;
    const metrics = outcome.metrics;
    if (metrics) {
      run.version = metrics.run.harness.version;
      const stage = metrics.stages[0];
      if (!stage) run.notes.push("metrics.json has no stage");
      else {
        if (metrics.stages.length > 1) run.notes.push(`metrics.json has ${metrics.stages.length} stages; stage 0 compared`);
        const trace = readTrace(join(runDir, "sim-trace.jsonl"));
        run.truth = truthFromTrace(trace);
        run.nominal = nominalFor(setting, trace);
        run.measured = observationFromStage(stage);
        run.errors = compareObservations(run.measured, run.truth);
        // The converter again, for the per-request records metrics.json does not keep.
        const converted = await harness.converter.convert(join(runDir, "native"), { profile: profileDoc, ...(run.version ? { harnessVersion: run.version } : {}) });
        const records = converted.kind === "ok" ? converted.stages[0]?.records : undefined;
        const aligned = records ? alignToTrace(records, trace) : "the converter gave no per-request records";
        if (typeof aligned === "string") run.notes.push(`requests not matched to the trace, so TTFT is not split into send and receive: ${aligned}`);
        else run.ttft_split = aligned;
        run.checks = checksFor(run.measured, run.truth, setting, tolerance, run.ttft_split);
        run.notes.push(...notesFor(run));
      }
    }
  } catch (e) {
    if (!isUserError(e)) throw e;
    run.reason = (e as Error).message;
  }
  run.wall_s = (Date.now() - t0) / 1000;
  run.ok = run.status === "ok" && run.checks !== undefined && run.checks.every((c) => c.ok);
  return run;
}

function notesFor(run: CalibrationRun): string[] {
  const notes: string[] = [];
  const m = run.measured!;
  const t = run.truth!;
  if (m.requests.successful !== t.requests.successful) {
    notes.push(`the harness counted ${m.requests.successful} successful requests, the simulator served ${t.requests.successful} (a harness may leave warm-up or requests outside its window out)`);
  }
  for (const key of LATENCY_KEYS) {
    const p = m.latency[key].provenance;
    if (p?.source === "native") notes.push(`${key}: the harness's own aggregate${p.native_field ? ` (${p.native_field})` : ""}${p.note ? `: ${p.note}` : ""}`);
    else if (p?.note) notes.push(`${key}: ${p.note}`);
  }
  return notes;
}
