import { copyFileSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { hostname, cpus, totalmem, platform, arch, release } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { UserError } from "../errors.ts";
import { ensureOutputDir } from "../output-paths.ts";
import { getHarness, checkCapabilities } from "../harness/registry.ts";
import { assembleMetrics, InvalidOutputError } from "../metrics/assemble.ts";
import type { Metrics } from "../metrics/schema.ts";
import { loadProfile } from "../profile/load.ts";
import type { Reporter, RunOutcome } from "../report/reporter.ts";
import { SERVER_LOG_FILE, type ConvertContext, type ConvertResult, type HarnessDefinition } from "../harness/contract.ts";
import type { Profile } from "../profile/schema.ts";
import { withImage } from "../runtime/docker/index.ts";
import { getRuntime } from "../runtime/index.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ExecResult } from "../runtime/process.ts";
import { HUB_VERSION } from "../version.ts";
import { redactEnv } from "./redact.ts";
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
  /** A container image to run the harness in (docker runtime only) instead of hub's own. */
  image?: string;
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

interface RunRecord {
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
  commands: { argv: string[]; env?: Record<string, string>; stage?: number; exit_code?: number | null; result?: string; duration_s?: number }[];
  started_at: string;
  ended_at: string | null;
  exit_code: number | null;
  warnings: string[];
  host: Record<string, unknown>;
}

/**
 * profile → adapter → runtime → converter → metrics → report. Whatever happens, run.json and
 * the harness's raw output and logs stay in the run directory.
 */
export async function runBenchmark(opts: RunOptions, reporter: Reporter): Promise<RunOutcome> {
  const harness = typeof opts.harness === "string" ? getHarness(opts.harness) : opts.harness;
  // A harness that declares no capabilities sends no load (it measures the server some other
  // way): any profile will do, none is needed, and the target need not be up yet.
  const sendsLoad = harness.capabilities.length > 0;
  if (opts.profile === undefined && sendsLoad) throw new UserError(`--profile is required: harness ${harness.name} sends load (see \`hub profiles list\`)`);
  const { profile, path: profilePath } = opts.profile !== undefined ? loadProfile(opts.profile, opts.overrides ?? []) : { profile: NO_LOAD_PROFILE, path: "" };
  if (sendsLoad) checkCapabilities(harness, profile);
  if (opts.serverLog !== undefined && opts.serverContainer !== undefined) throw new UserError("give the server's log as --server-log or --server-container, not both");
  if (opts.serverLog !== undefined && !existsSync(opts.serverLog)) throw new UserError(`--server-log ${opts.serverLog}: no such file`);
  const runtime = withImage(typeof opts.runtime === "object" ? opts.runtime : getRuntime(opts.runtime ?? "local"), opts.image);
  // Checked before anything is written: a URL with credentials must never reach run.json.
  const givenTarget = opts.target !== undefined ? normalizeTarget(opts.target) : undefined;

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
  let sim: Awaited<ReturnType<typeof simulator.startSimulator>> | undefined;
  let target: string;
  if (givenTarget !== undefined) {
    target = givenTarget;
  } else {
    sim = await simulator.startSimulator({
      port: 0,
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.sim?.ttftMs !== undefined ? { ttftMs: opts.sim.ttftMs } : {}),
      ...(opts.sim?.itlMs !== undefined ? { itlMs: opts.sim.itlMs } : {}),
      ...(opts.sim?.ttftJitterMs !== undefined ? { ttftJitterMs: opts.sim.ttftJitterMs } : {}),
      ...(opts.sim?.itlJitterMs !== undefined ? { itlJitterMs: opts.sim.itlJitterMs } : {}),
      ...(opts.sim?.seed !== undefined ? { seed: opts.sim.seed } : {}),
      tracePath: opts.sim?.tracePath ?? join(outDir, "sim-trace.jsonl"),
    });
    target = sim.url;
    reporter.onInfo?.(`no --target given: started the built-in simulator at ${target} (ground truth in sim-trace.jsonl)`);
  }

  const record: RunRecord = {
    hub_version: HUB_VERSION,
    run_id: runId,
    status: "running",
    harness: { name: harness.name, pinned_version: harness.version, installed_version: null },
    profile: { name: profile.name, path: profilePath, overrides: opts.overrides ?? [] },
    target,
    target_is_simulator: sim !== undefined,
    model: opts.model ?? "",
    runtime: runtime.name,
    commands: [],
    started_at: started.toISOString(),
    ended_at: null,
    exit_code: null,
    warnings,
    host: { hostname: hostname(), platform: platform(), release: release(), arch: arch(), cpus: cpus().length, memory_bytes: totalmem(), node: process.version },
  };
  const saveRecord = () => writeFileSync(join(outDir, "run.json"), `${JSON.stringify(record, null, 2)}\n`);
  saveRecord();
  // Marked at once, so a second Ctrl-C that exits hub on the spot still leaves the right status.
  const onAbort = () => {
    if (record.status !== "running") return;
    record.status = "interrupted";
    record.ended_at = new Date().toISOString();
    saveRecord();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const interrupted = () => (opts.signal?.aborted ? finish({ kind: "interrupted", outDir }) : undefined);

  let metrics: Metrics | undefined;
  try {
    let info: TargetInfo | undefined;
    try {
      info = await probeTarget(target, 5000, opts.signal);
    } catch (e) {
      if (opts.signal?.aborted) return interrupted()!;
      if (sendsLoad || !(e instanceof UserError)) throw e;
      warn(`${e.message.split(". ")[0]}; ${harness.name} sends no load and waits for it`);
    }
    const model = opts.model ?? info?.models[0] ?? (sendsLoad ? undefined : "");
    if (model === undefined) throw new UserError(`target ${target} lists no models at /v1/models; pass --model`);
    record.model = model;
    saveRecord();

    const prepared = await runtime.prepare(harness, (l) => reporter.onInstallLine?.(l), opts.signal);
    if (opts.signal?.aborted) return interrupted()!;
    if (prepared.kind === "failed") return finish({ kind: "failed", outDir, reason: prepared.reason, exitCode: null });
    record.harness.installed_version = prepared.version;

    const tokenizerDir = resolve(opts.tokenizer ?? simulator.tokenizerDir());
    const paths = runtime.harnessPaths?.({ nativeDir, tokenizerDir }) ?? { outputDir: nativeDir, tokenizerDir };
    const translated = harness.translate(profile, { target, model, ...paths });
    if (translated.kind === "unsupported") throw new UserError(`harness ${harness.name} cannot run profile ${profile.name}: ${translated.reason}`);
    translated.warnings.forEach(warn);

    reporter.onRunStart?.({ runId, outDir, harness: harness.name, harnessVersion: prepared.version, profile: profile.name, target, model, simulated: sim !== undefined });

    const deadline = opts.timeoutS !== undefined ? Date.now() + opts.timeoutS * 1000 : undefined;
    let last: ExecResult | undefined;
    for (const inv of translated.invocations) {
      for (const [rel, content] of Object.entries(inv.files ?? {})) writeFileSync(join(nativeDir, rel), content);
      const argv = runtime.describe(harness, inv);
      const entry: RunRecord["commands"][number] = { argv, ...(inv.env ? { env: redactEnv(inv.env)! } : {}), ...(inv.stage !== undefined ? { stage: inv.stage } : {}) };
      record.commands.push(entry);
      saveRecord();
      reporter.onHarnessStart?.({ command: argv, ...(inv.stage !== undefined ? { stage: inv.stage } : {}) });
      last = await runtime.exec({
        harness,
        invocation: inv,
        nativeDir,
        tokenizerDir,
        stdoutLog: join(nativeDir, "stdout.log"),
        stderrLog: join(nativeDir, "stderr.log"),
        onLine: (s, l) => reporter.onHarnessOutput?.(s, l),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(deadline !== undefined ? { timeoutMs: Math.max(0, deadline - Date.now()) } : {}),
      });
      entry.exit_code = last.exitCode;
      entry.result = last.kind;
      entry.duration_s = last.durationMs / 1000;
      record.exit_code = last.exitCode;
      saveRecord();
      reporter.onHarnessEnd?.(last);
      if (last.kind !== "ok") break;
    }

    if (opts.serverLog !== undefined || opts.serverContainer !== undefined) {
      const from = opts.serverLog ?? `container ${opts.serverContainer}`;
      try {
        if (opts.serverLog !== undefined) copyFileSync(resolve(opts.serverLog), join(nativeDir, SERVER_LOG_FILE));
        else {
          const { containerLogs } = await import("../runtime/docker/logs.ts");
          writeFileSync(join(nativeDir, SERVER_LOG_FILE), await containerLogs(opts.serverContainer!));
        }
        reporter.onInfo?.(`kept the server's log (${from}) as native/${SERVER_LOG_FILE}`);
      } catch (e) {
        warn(`could not keep the server's log (${from}): ${(e as Error).message}`);
      }
    }

    // Convert whatever the harness left, even after a failure: partial results beat none.
    const converted = await convertSafely(harness, nativeDir, { profile, harnessVersion: prepared.version }, opts.signal);
    if (opts.signal?.aborted) return interrupted()!;
    let conversion: ConvertResult = converted;
    if (converted.kind === "ok") {
      converted.warnings.forEach(warn);
      const assembled = assembleSafely(() => assembleMetrics(
        {
          id: runId,
          harness: { name: harness.name, version: converted.harnessVersion ?? prepared.version },
          profile: profile.name,
          target,
          model: model || null,
          runtime: runtime.name,
          started_at: started.toISOString(),
          ended_at: new Date().toISOString(),
          exit_code: last?.exitCode ?? null,
        },
        converted.stages,
        converted.startup,
      ));
      if (assembled.kind === "ok") {
        assembled.value.warnings.forEach(warn);
        metrics = assembled.value.metrics;
        writeFileSync(join(outDir, "metrics.json"), `${JSON.stringify(metrics, null, 2)}\n`);
      } else conversion = { kind: "failed", reason: assembled.reason };
    }

    if (last && last.kind !== "ok") {
      if (last.kind === "failed") return finish({ kind: "failed", outDir, reason: last.reason, exitCode: last.exitCode, ...(metrics ? { metrics } : {}) });
      return finish({ kind: last.kind, outDir, ...(metrics ? { metrics } : {}) });
    }
    if (conversion.kind === "failed") return finish({ kind: "failed", outDir, reason: `converting ${harness.name} output failed: ${conversion.reason}`, exitCode: last?.exitCode ?? null });
    return finish({ kind: "ok", outDir, metrics: metrics!, warnings });
  } catch (e) {
    if (opts.signal?.aborted) return interrupted()!;
    record.status = "failed";
    record.error = (e as Error).message;
    record.ended_at = new Date().toISOString();
    saveRecord();
    throw e;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    await sim?.close();
  }

  function finish(result: RunOutcome): RunOutcome {
    // Whatever failed after Ctrl-C failed because of it.
    const outcome: RunOutcome = opts.signal?.aborted && result.kind !== "ok" ? { kind: "interrupted", outDir, ...(result.metrics ? { metrics: result.metrics } : {}) } : result;
    record.status = outcome.kind;
    if (outcome.kind === "failed") record.error = outcome.reason;
    record.ended_at = new Date().toISOString();
    saveRecord();
    reporter.onRunEnd?.(outcome);
    return outcome;
  }
}

function assembleSafely<T>(f: () => T): { kind: "ok"; value: T } | { kind: "failed"; reason: string } {
  try {
    return { kind: "ok", value: f() };
  } catch (e) {
    if (e instanceof InvalidOutputError) return { kind: "failed", reason: e.message };
    throw e;
  }
}

/** A converter that throws is a converter bug or an output it did not foresee: a failed conversion, not a crash. */
async function convertSafely(harness: HarnessDefinition, nativeDir: string, ctx: ConvertContext, signal?: AbortSignal): Promise<ConvertResult> {
  try {
    // Ctrl-C does not wait for a long conversion: the raw output stays for `hub convert`.
    const aborted = new Promise<ConvertResult>((resolve) => {
      if (signal?.aborted) resolve({ kind: "failed", reason: "interrupted" });
      signal?.addEventListener("abort", () => resolve({ kind: "failed", reason: "interrupted" }), { once: true });
    });
    return await Promise.race([harness.converter.convert(nativeDir, ctx), aborted]);
  } catch (e) {
    return { kind: "failed", reason: `the ${harness.name} converter failed: ${(e as Error).message?.split("\n")[0] ?? String(e)}` };
  }
}
