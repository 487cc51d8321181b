import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, hostname, platform, release, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { UserError } from "../errors.ts";
import { SERVER_LOG_FILE, type HarnessDefinition } from "../harness/contract.ts";
import { checkCapabilities, getHarness } from "../harness/registry.ts";
import { assembleMetrics, InvalidOutputError, type RunFacts } from "../metrics/assemble.ts";
import type { Metrics } from "../metrics/schema.ts";
import { ensureOutputDir } from "../output-paths.ts";
import { loadProfile } from "../profile/load.ts";
import type { Profile } from "../profile/schema.ts";
import type { Reporter, RunOutcome } from "../report/reporter.ts";
import { createRuntime, serverContainerLog } from "../runtime/index.ts";
import type { Runtime, RuntimeOptions, WorkerResult } from "../runtime/runtime.ts";
import { HUB_VERSION } from "../version.ts";
import { convertWorkers } from "./convert.ts";
import { executeWorkers, type Worker } from "./execute.ts";
import { RunFile } from "./record.ts";
import { splitProfile, type WorkerPlan } from "./split.ts";
import { normalizeTarget, probeTarget, type TargetInfo } from "./target.ts";

export interface RunOptions {
  /** A harness name, or a definition (plugins, tests). */
  harness: string | HarnessDefinition;
  /** Required, except for a harness that sends no load (declares no capabilities). */
  profile?: string;
  overrides?: readonly string[];
  /** Without a target hub starts its simulator on a free loopback port. */
  target?: string;
  model?: string;
  runtime?: string | Runtime;
  /** A container image to run the harness in (docker, kubernetes) instead of hub's own. */
  image?: string;
  /** Settings for the runtime (Kubernetes namespace, kubeconfig, resources…). */
  runtimeOptions?: RuntimeOptions;
  /** Load generators sharing the profile's load (default 1); their records are pooled. */
  parallel?: number;
  /** With parallel workers: a worker that failed is left out of the merged result instead of failing the run. */
  keepPartial?: boolean;
  out?: string;
  /** A Hugging Face tokenizer directory for the harness; default: the simulator's Qwen3 one. */
  tokenizer?: string;
  /** Simulator latencies when hub starts its own (jitter: normal stddev in ms; seed: for the jitter). */
  sim?: { ttftMs?: number; itlMs?: number; ttftJitterMs?: number; itlJitterMs?: number; seed?: number; tracePath?: string };
  timeoutS?: number;
  signal?: AbortSignal;
  /** The target server's log file, kept as native/server.log once the harness has finished. */
  serverLog?: string;
  /** A Docker container whose log is kept as native/server.log once the harness has finished. */
  serverContainer?: string;
}

/** The profile of a run whose harness sends no load, when none is given: it is not used. */
const NO_LOAD_PROFILE: Profile = {
  name: "none",
  description: "no profile given: the harness sends no load",
  api: { type: "completion", streaming: true },
  load: { type: "synchronous", stages: [{ requests: 1 }] },
  data: { type: "random", input_tokens: { mean: 1, stddev: 0 }, output_tokens: { mean: 1, stddev: 0 }, seed: 42 },
  limits: {},
};

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z").replace("T", "-");
}

/** Everything checked before a file is written: a mistake here costs nothing. */
async function plan(opts: RunOptions) {
  const harness = typeof opts.harness === "string" ? getHarness(opts.harness) : opts.harness;
  // A harness that declares no capabilities sends no load (it measures the server some other
  // way): any profile will do, none is needed, and the target need not be up yet.
  const sendsLoad = harness.capabilities.length > 0;
  if (opts.profile === undefined && sendsLoad) throw new UserError(`--profile is required: harness ${harness.name} sends load (see \`hub profiles list\`)`);
  const { profile, path: profilePath } = opts.profile !== undefined ? loadProfile(opts.profile, opts.overrides ?? []) : { profile: NO_LOAD_PROFILE, path: "" };
  if (sendsLoad) checkCapabilities(harness, profile);
  if (opts.serverLog !== undefined && opts.serverContainer !== undefined) throw new UserError("give the server's log as --server-log or --server-container, not both");
  if (opts.serverLog !== undefined && !existsSync(opts.serverLog)) throw new UserError(`--server-log ${opts.serverLog}: no such file`);
  const workers = splitProfile(profile, opts.parallel ?? 1);
  const runtimeOptions = { ...opts.runtimeOptions, ...(opts.image !== undefined ? { image: opts.image } : {}) };
  const runtime = typeof opts.runtime === "object" ? opts.runtime : await createRuntime(opts.runtime ?? "local", runtimeOptions);
  // Checked before anything is written: a URL with credentials must never reach run.json.
  const givenTarget = opts.target !== undefined ? normalizeTarget(opts.target) : undefined;
  return { harness, sendsLoad, profile, profilePath, workers, runtime, givenTarget };
}

/**
 * profile → adapter → runtime → converter → metrics → report. Whatever happens, run.json and
 * the harness's raw output and logs stay in the run directory.
 */
export async function runBenchmark(opts: RunOptions, reporter: Reporter): Promise<RunOutcome> {
  const { harness, sendsLoad, profile, profilePath, workers, runtime, givenTarget } = await plan(opts);
  const started = new Date();
  const runId = `${timestamp(started)}-${harness.name}-${profile.name}`;
  const outDir = ensureOutputDir(opts.out ?? join("results", runId), "--out");
  const nativeDir = join(outDir, "native");
  if (existsSync(join(outDir, "run.json"))) throw new UserError(`${outDir} already holds a run (run.json); choose another --out`);
  mkdirSync(nativeDir, { recursive: true });
  writeFileSync(join(outDir, "profile.resolved.yaml"), stringify(profile));

  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    reporter.onWarning?.(m);
  };

  // The target must answer before anything is installed or started.
  // Loaded on demand: the simulator brings a tokenizer that takes a while to load.
  const simulator = await import("../sim/index.ts");
  const sim = givenTarget === undefined ? await startOwnSimulator(simulator, opts, outDir) : undefined;
  const target = givenTarget ?? sim!.url;
  if (sim) reporter.onInfo?.(`no --target given: started the built-in simulator at ${target} (ground truth in sim-trace.jsonl)`);

  const run = new RunFile(outDir, {
    hub_version: HUB_VERSION,
    run_id: runId,
    status: "running",
    harness: { name: harness.name, pinned_version: harness.version, installed_version: null },
    profile: { name: profile.name, path: profilePath, overrides: opts.overrides ?? [] },
    target,
    target_is_simulator: sim !== undefined,
    model: opts.model ?? "",
    runtime: runtime.name,
    parallel: workers.length,
    workers: workers.map((w) => ({ worker: w.index, seed: w.seed })),
    commands: [],
    started_at: started.toISOString(),
    ended_at: null,
    exit_code: null,
    warnings,
    host: { hostname: hostname(), platform: platform(), release: release(), arch: arch(), cpus: cpus().length, memory_bytes: totalmem(), node: process.version },
  });
  const onAbort = () => run.markInterrupted();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const aborted = () => opts.signal?.aborted === true;

  function finish(result: RunOutcome): RunOutcome {
    // Whatever failed after Ctrl-C failed because of it.
    const outcome: RunOutcome = aborted() && result.kind !== "ok" ? { kind: "interrupted", outDir, ...(result.metrics ? { metrics: result.metrics } : {}) } : result;
    run.end(outcome.kind, outcome.kind === "failed" ? outcome.reason : undefined);
    reporter.onRunEnd?.(outcome);
    return outcome;
  }

  try {
    let info: TargetInfo | undefined;
    try {
      info = await probeTarget(target, 5000, opts.signal);
    } catch (e) {
      if (aborted()) return finish({ kind: "interrupted", outDir });
      if (sendsLoad || !(e instanceof UserError)) throw e;
      warn(`${e.message.split(". ")[0]}; ${harness.name} sends no load and waits for it`);
    }
    const model = opts.model ?? info?.models[0] ?? (sendsLoad ? undefined : "");
    if (model === undefined) throw new UserError(`target ${target} lists no models at /v1/models; pass --model`);
    run.record.model = model;
    run.save();

    const prepared = await runtime.prepare(harness, (l) => reporter.onInstallLine?.(l), opts.signal);
    if (aborted()) return finish({ kind: "interrupted", outDir });
    if (prepared.kind === "failed") return finish({ kind: "failed", outDir, reason: prepared.reason, exitCode: null });
    run.record.harness.installed_version = prepared.version;

    const tokenizerDir = resolve(opts.tokenizer ?? simulator.tokenizerDir());
    const generators = translateWorkers(harness, runtime, workers, { nativeDir, tokenizerDir, target, model }, warn);
    reporter.onRunStart?.({ runId, outDir, harness: harness.name, harnessVersion: prepared.version, profile: profile.name, target, model, simulated: sim !== undefined });

    const results = await executeWorkers({
      harness,
      runtime,
      workers: generators,
      tokenizerDir,
      runId,
      run,
      reporter,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutS !== undefined ? { deadline: Date.now() + opts.timeoutS * 1000 } : {}),
    });
    await keepServerLog(opts, nativeDir, reporter, warn);

    // Convert whatever the harnesses left, even after a failure: partial results beat none.
    // With --keep-partial a worker that did not finish is left out; otherwise everything is
    // converted (the run fails anyway, with what was collected).
    const keepPartial = opts.keepPartial === true && workers.length > 1;
    const converting = keepPartial ? generators.filter((g) => results[g.index]?.kind === "ok") : generators;
    const converted = await convertWorkers(
      harness,
      converting.map((g) => ({ index: g.index, nativeDir: g.nativeDir, seed: workers[g.index]!.seed, profile: workers[g.index]!.profile })),
      { harnessVersion: prepared.version, keepPartial, parallel: workers.length, ...(opts.signal ? { signal: opts.signal } : {}) },
    );
    if (aborted()) return finish({ kind: "interrupted", outDir });
    let metrics: Metrics | undefined;
    let conversionFailure = converted.kind === "failed" ? converted.reason : undefined;
    if (converted.kind === "ok") {
      converted.warnings.forEach(warn);
      const facts: RunFacts = {
        id: runId,
        harness: { name: harness.name, version: converted.harnessVersion ?? prepared.version },
        profile: profile.name,
        target,
        model: model || null,
        runtime: runtime.name,
        started_at: started.toISOString(),
        ended_at: new Date().toISOString(),
        exit_code: run.record.exit_code,
      };
      try {
        const assembled = assembleMetrics(facts, converted.stages, converted.startup);
        assembled.warnings.forEach(warn);
        metrics = assembled.metrics;
        writeFileSync(join(outDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
      } catch (e) {
        if (!(e instanceof InvalidOutputError)) throw e;
        conversionFailure = e.message;
      }
    }

    const failedWorker = workerFailure(results, workers.length);
    if (failedWorker && !(keepPartial && metrics)) {
      const last = failedWorker.result;
      if (last.kind === "failed") return finish({ kind: "failed", outDir, reason: failedWorker.reason, exitCode: last.exitCode, ...(metrics ? { metrics } : {}) });
      return finish({ kind: last.kind === "ok" ? "failed" : last.kind, outDir, ...(metrics ? { metrics } : {}) } as RunOutcome);
    }
    if (failedWorker) warn(`${failedWorker.reason}; the merged result leaves its requests out (--keep-partial)`);
    if (conversionFailure !== undefined || !metrics) {
      return finish({ kind: "failed", outDir, reason: `converting ${harness.name} output failed: ${conversionFailure ?? "no metrics"}`, exitCode: run.record.exit_code });
    }
    return finish({ kind: "ok", outDir, metrics, warnings });
  } catch (e) {
    if (aborted()) return finish({ kind: "interrupted", outDir });
    run.end("failed", (e as Error).message);
    throw e;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await sim?.close();
  }
}

type SimulatorModule = typeof import("../sim/index.ts");

function startOwnSimulator(simulator: SimulatorModule, opts: RunOptions, outDir: string) {
  const s = opts.sim ?? {};
  return simulator.startSimulator({
    port: 0,
    ...(opts.model ? { model: opts.model } : {}),
    ...(s.ttftMs !== undefined ? { ttftMs: s.ttftMs } : {}),
    ...(s.itlMs !== undefined ? { itlMs: s.itlMs } : {}),
    ...(s.ttftJitterMs !== undefined ? { ttftJitterMs: s.ttftJitterMs } : {}),
    ...(s.itlJitterMs !== undefined ? { itlJitterMs: s.itlJitterMs } : {}),
    ...(s.seed !== undefined ? { seed: s.seed } : {}),
    tracePath: s.tracePath ?? join(outDir, "sim-trace.jsonl"),
  });
}

/**
 * Each worker's share of the profile, translated by the adapter. One worker writes to native/ as
 * a single generator always has; several to native/worker-<i>/.
 */
function translateWorkers(
  harness: HarnessDefinition,
  runtime: Runtime,
  workers: readonly WorkerPlan[],
  at: { nativeDir: string; tokenizerDir: string; target: string; model: string },
  warn: (m: string) => void,
): Worker[] {
  return workers.map((w) => {
    const nativeDir = workers.length === 1 ? at.nativeDir : join(at.nativeDir, `worker-${w.index}`);
    mkdirSync(nativeDir, { recursive: true });
    const paths = runtime.harnessPaths?.({ nativeDir, tokenizerDir: at.tokenizerDir }) ?? { outputDir: nativeDir, tokenizerDir: at.tokenizerDir };
    const translated = harness.translate(w.profile, { target: at.target, model: at.model, ...paths });
    if (translated.kind === "unsupported") throw new UserError(`harness ${harness.name} cannot run profile ${w.profile.name}: ${translated.reason}`);
    // Every worker's adapter says the same things: say them once.
    if (w.index === 0) translated.warnings.forEach(warn);
    return { index: w.index, nativeDir, invocations: translated.invocations };
  });
}

/** The first worker that did not succeed, named, or undefined. */
function workerFailure(results: readonly WorkerResult[], n: number): { result: WorkerResult; reason: string } | undefined {
  const i = results.findIndex((r) => r.kind !== "ok");
  if (i < 0) return undefined;
  const r = results[i]!;
  const why = r.kind === "failed" ? r.reason : r.kind === "timed_out" ? "timed out" : "interrupted";
  return { result: r, reason: n > 1 ? `worker ${i} ${r.kind === "failed" ? "failed" : "stopped"}: ${why} (its logs are in native/worker-${i}/)` : why };
}

async function keepServerLog(opts: RunOptions, nativeDir: string, reporter: Reporter, warn: (m: string) => void): Promise<void> {
  if (opts.serverLog === undefined && opts.serverContainer === undefined) return;
  const from = opts.serverLog ?? `container ${opts.serverContainer}`;
  try {
    if (opts.serverLog !== undefined) copyFileSync(resolve(opts.serverLog), join(nativeDir, SERVER_LOG_FILE));
    else writeFileSync(join(nativeDir, SERVER_LOG_FILE), await serverContainerLog(opts.serverContainer!));
    reporter.onInfo?.(`kept the server's log (${from}) as native/${SERVER_LOG_FILE}`);
  } catch (e) {
    warn(`could not keep the server's log (${from}): ${(e as Error).message}`);
  }
}
