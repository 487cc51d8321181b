import type { ConvertContext, ConvertResult, HarnessDefinition } from "../harness/contract.ts";
import { mergeWorkers, type WorkerOutput } from "../metrics/merge.ts";
import type { Profile } from "../profile/schema.ts";

export interface WorkerOutputDir {
  index: number;
  nativeDir: string;
  seed: number;
  profile: Profile;
}

/**
 * Converts what every worker left and pools it into one set of stages. A worker whose output does
 * not convert fails the conversion, unless `keepPartial`: then it is left out and named.
 */
export async function convertWorkers(
  harness: HarnessDefinition,
  workers: readonly WorkerOutputDir[],
  ctx: { harnessVersion: string; keepPartial: boolean; parallel: number; signal?: AbortSignal },
): Promise<ConvertResult> {
  if (ctx.parallel === 1) return convertSafely(harness, workers[0]!.nativeDir, { profile: workers[0]!.profile, harnessVersion: ctx.harnessVersion }, ctx.signal);
  const outputs: WorkerOutput[] = [];
  const warnings: string[] = [];
  let first: Extract<ConvertResult, { kind: "ok" }> | undefined;
  for (const w of workers) {
    const r = await convertSafely(harness, w.nativeDir, { profile: w.profile, harnessVersion: ctx.harnessVersion }, ctx.signal);
    if (r.kind === "failed") {
      if (!ctx.keepPartial) return { kind: "failed", reason: `worker ${w.index}: ${r.reason}` };
      warnings.push(`worker ${w.index} left out of the merged result (--keep-partial): ${r.reason}`);
      continue;
    }
    first ??= r;
    warnings.push(...r.warnings.map((m) => `worker ${w.index}: ${m}`));
    outputs.push({ worker: w.index, seed: w.seed, stages: r.stages });
  }
  if (!first) return { kind: "failed", reason: "no worker's output converted" };
  const merged = mergeWorkers(outputs, ctx.parallel);
  return { kind: "ok", harnessVersion: first.harnessVersion, stages: merged.stages, warnings: [...warnings, ...merged.warnings], ...(first.startup ? { startup: first.startup } : {}) };
}

/** A converter that throws is a converter bug or an output it did not foresee: a failed conversion, not a crash. */
export async function convertSafely(harness: HarnessDefinition, nativeDir: string, ctx: ConvertContext, signal?: AbortSignal): Promise<ConvertResult> {
  // Ctrl-C does not wait for a long conversion: the raw output stays for `hub convert`.
  let onAbort = () => {};
  const aborted = new Promise<ConvertResult>((resolve) => {
    onAbort = () => resolve({ kind: "failed", reason: "interrupted" });
    if (signal?.aborted) onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([harness.converter.convert(nativeDir, ctx), aborted]);
  } catch (e) {
    return { kind: "failed", reason: `the ${harness.name} converter failed: ${(e as Error).message?.split("\n")[0] ?? String(e)}` };
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
