/**
 * The copy-out: the pod's /results as a tar stream over exec, extracted into the worker's native
 * folder on hub's machine. Nothing runs on hub's side but the reader in tar.ts.
 */
import { once } from "node:events";
import type { KubeClient } from "./client.ts";
import { execInPod } from "./exec.ts";
import { helperCommand } from "./pod-program.ts";
import { TarExtractor } from "./tar.ts";

export type CopyResult = { kind: "ok"; files: number; bytes: number; skipped: string[] } | { kind: "failed"; reason: string };

/** A copy that moves is never cut; one silent this long is. */
const IDLE_TIMEOUT_MS = 60_000;

export async function copyResults(client: KubeClient, pod: string, into: string, opts: { skip?: readonly string[] } = {}): Promise<CopyResult> {
  const extractor = new TarExtractor(into, { ...(opts.skip ? { skip: opts.skip } : {}) });
  let extractError: Error | undefined;
  extractor.on("error", (e) => (extractError = e));
  const finished = once(extractor, "finish").catch(() => {});
  const r = await execInPod(client, pod, helperCommand("tar"), { stdout: extractor, idleTimeoutMs: IDLE_TIMEOUT_MS });
  // The extractor has every byte the exec delivered once it finishes (or failed).
  await Promise.race([finished, once(extractor, "close").catch(() => {})]);
  const what = `copying /results out of pod ${pod}`;
  if (r.exitCode !== 0) return { kind: "failed", reason: `${what} failed: ${r.error ?? (r.stderr.trim().split("\n").at(-1) || `exit code ${r.exitCode}`)}` };
  if (extractError) return { kind: "failed", reason: `${what} failed: ${extractError.message}` };
  if (!extractor.complete) return { kind: "failed", reason: `${what} failed: the tar stream was cut short` };
  return { kind: "ok", files: extractor.files, bytes: extractor.bytes, skipped: extractor.skipped };
}
