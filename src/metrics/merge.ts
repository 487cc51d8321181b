import { computeStage, recordsWindow, type StageInput } from "./compute.ts";
import type { LoadPoint, Stage } from "./schema.ts";
import { maxOf, minOf } from "./stats.ts";

/**
 * Pools N load generators' results into one set of stages. Percentiles are exact because the
 * per-request records are pooled and summarised once (never an average of per-worker p99s);
 * throughputs divide the pooled counts by the union of the workers' windows.
 */

/** Workers whose first requests are further apart than this did not offer the load together. */
export const MAX_START_SKEW_S = 2;

export interface WorkerOutput {
  worker: number;
  seed: number | null;
  stages: StageInput[];
}

/** `n` is the number of workers the load was split over (some may be left out of `outputs`). */
export function mergeWorkers(outputs: readonly WorkerOutput[], n: number): { stages: StageInput[]; warnings: string[] } {
  const indexes = [...new Set(outputs.flatMap((o) => o.stages.map((s) => s.index)))].sort((a, b) => a - b);
  const warnings: string[] = [];
  const stages = indexes.map((index) => {
    const parts = outputs.flatMap((o) => o.stages.filter((s) => s.index === index).map((s) => ({ o, s })));
    const missing = outputs.filter((o) => !o.stages.some((s) => s.index === index)).map((o) => o.worker);
    const notes = [...new Set(parts.flatMap((p) => p.s.notes ?? []))];
    if (missing.length > 0) notes.push(`worker${missing.length > 1 ? "s" : ""} ${missing.join(", ")} recorded nothing for this stage`);
    const skew = startSkew(parts.map((p) => p.s));
    if (skew > MAX_START_SKEW_S) {
      const w = `stage ${index}: the workers' first requests were ${skew.toFixed(1)} s apart (more than ${MAX_START_SKEW_S} s): they did not offer the load together`;
      warnings.push(w);
      notes.push(w);
    }
    const merged: StageInput = {
      index,
      load: totalLoad(parts[0]!.s.load, n),
      records: parts.flatMap((p) => p.s.records),
      ...unionWindow(parts.map((p) => p.s)),
      ...pooledNative(parts.map((p) => p.s), notes),
      ...(parts[0]!.s.recordSource ? { recordSource: parts[0]!.s.recordSource } : {}),
      notes,
      workers: parts.map(({ o, s }) => breakdown(o, s)),
    };
    return merged;
  });
  return { stages, warnings };
}

/** The offered load of all workers together: streams and rates add up. */
function totalLoad(load: LoadPoint, n: number): LoadPoint {
  return {
    ...load,
    ...(load.concurrency !== undefined ? { concurrency: load.concurrency * n } : {}),
    ...(load.rate !== undefined ? { rate: load.rate * n } : {}),
  };
}

/** The union of the workers' own windows, when every worker has one; else the pooled records'. */
function unionWindow(stages: readonly StageInput[]): Pick<StageInput, "window"> {
  if (!stages.every((s) => s.window)) return {};
  return { window: { start_s: minOf(stages.map((s) => s.window!.start_s)), end_s: maxOf(stages.map((s) => s.window!.end_s)) } };
}

/**
 * What a harness reported only as summaries cannot be pooled exactly: percentiles of a union are
 * not a function of the parts' percentiles. Throughputs do add up.
 */
function pooledNative(stages: readonly StageInput[], notes: string[]): Pick<StageInput, "nativeThroughput"> {
  if (stages.some((s) => s.native && Object.keys(s.native).length > 0)) {
    notes.push("the workers' own summary distributions are left out: percentiles cannot be pooled from per-worker summaries, only from per-request records");
  }
  const sum = (key: keyof NonNullable<StageInput["nativeThroughput"]>) => {
    const values = stages.map((s) => s.nativeThroughput?.[key]);
    return values.every((v) => typeof v === "number") ? (values as number[]).reduce((a, b) => a + b, 0) : undefined;
  };
  const keys = ["requests_per_s", "input_tokens_per_s", "output_tokens_per_s", "total_tokens_per_s"] as const;
  const entries = keys.flatMap((k) => (sum(k) !== undefined ? [[k, sum(k)!] as const] : []));
  return entries.length > 0 ? { nativeThroughput: Object.fromEntries(entries) } : {};
}

function startSkew(stages: readonly StageInput[]): number {
  const firsts = stages.filter((s) => s.records.length > 0).map((s) => recordsWindow(s.records).start_s);
  return firsts.length > 1 ? maxOf(firsts) - minOf(firsts) : 0;
}

function breakdown(o: WorkerOutput, s: StageInput): NonNullable<Stage["workers"]>[number] {
  const alone = computeStage({ ...s, notes: [] });
  const w = s.records.length > 0 ? recordsWindow(s.records) : undefined;
  return {
    worker: o.worker,
    seed: o.seed,
    requests: alone.requests.total,
    failed: alone.requests.failed,
    window_start_s: w?.start_s ?? null,
    window_end_s: w?.end_s ?? null,
    ttft_ms_p50: alone.latency.ttft_ms.p50,
    ttft_ms_p99: alone.latency.ttft_ms.p99,
    itl_ms_p50: alone.latency.itl_ms.p50,
    itl_ms_p99: alone.latency.itl_ms.p99,
  };
}
