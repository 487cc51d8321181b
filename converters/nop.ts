import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SERVER_LOG_FILE, type ConvertResult, type Converter } from "../src/harness/contract.ts";
import { readNativeJson } from "../src/harness/native.ts";
import type { Startup } from "../src/metrics/schema.ts";
import { HUB_VERSION } from "../src/version.ts";
import schema from "./nop.schema.json" with { type: "json" };
import { parseVllmLog } from "./vllm-log.ts";

/**
 * nop's output → metrics.json with no stages (nop sends no request) and a `startup` section:
 * the probe's readiness times (probe.json) and the start-up phases of the server's vLLM log
 * (server.log, see vllm-log.ts). Either may be missing; what is missing is reported as missing.
 */

export const NOP_FILES = { probe: "probe.json", log: SERVER_LOG_FILE } as const;

interface Probe {
  already_up: boolean;
  endpoints: { health: { answered_s: number | null; attempts: number; last_error?: string | null }; models: { answered_s: number | null; attempts: number; last_error?: string | null } };
  models?: (string | null)[];
  version?: string | null;
}

/** A ConvertResult that also carries the start-up section for metrics.json. */
export type NopConvertResult = ConvertResult & { startup?: Startup };

const exists = (p: string) => stat(p).then((s) => s.isFile(), () => false);

/** probe.json and the server log to read, from a run's output folder or one of its files. */
async function locate(nativePath: string): Promise<{ probe?: string; log?: string } | { failed: string }> {
  const s = await stat(nativePath).catch(() => undefined);
  if (!s) return { failed: `${nativePath}: not found` };
  if (s.isDirectory()) {
    const probe = join(nativePath, NOP_FILES.probe);
    const log = join(nativePath, NOP_FILES.log);
    const found = { ...((await exists(probe)) ? { probe } : {}), ...((await exists(log)) ? { log } : {}) };
    if (!found.probe && !found.log) return { failed: `${nativePath}: neither ${NOP_FILES.probe} (nop's probe) nor ${NOP_FILES.log} (the server's log) is there` };
    return found;
  }
  if (basename(nativePath).endsWith(".json")) {
    const log = join(dirname(nativePath), NOP_FILES.log);
    return { probe: nativePath, ...((await exists(log)) ? { log } : {}) };
  }
  return { log: nativePath };
}

export const nopConverter: Converter = {
  knownVersions: [HUB_VERSION],
  async convert(nativePath, ctx): Promise<ConvertResult> {
    const found = await locate(nativePath);
    if ("failed" in found) return { kind: "failed", reason: found.failed };
    const warnings: string[] = [];

    let probe: Probe | undefined;
    if (found.probe) {
      const read = await readNativeJson<Probe>(found.probe, schema, { expected: "hub nop probe.json" });
      if (read.kind === "failed") return read;
      probe = read.data;
    }

    let fromLog: Omit<Startup, "ready">;
    if (found.log) {
      let text: string;
      try {
        text = await readFile(found.log, "utf8");
      } catch (e) {
        return { kind: "failed", reason: `${found.log}: cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})` };
      }
      fromLog = parseVllmLog(text, found.log);
    } else {
      warnings.push("no server log: the start-up phases are unknown (give hub the server's log with --server-log, or convert the log file itself)");
      fromLog = {
        log: null,
        server: { engine: null, version: null, model: null },
        total_s: null,
        phases: [],
        model_loading: null,
        sleep_wake: [],
        notes: ["no server log was read"],
      };
    }

    const notes = [...fromLog.notes];
    let ready: Startup["ready"] = null;
    if (probe) {
      const { health, models } = probe.endpoints;
      ready = { health_s: health.answered_s, models_s: models.answered_s, already_up: probe.already_up };
      for (const [path, e] of [["/health", health], ["/v1/models", models]] as const) {
        if (e.answered_s === null) notes.push(`GET ${path} never answered 200 (${e.attempts} attempts; last: ${e.last_error ?? "unknown"})`);
      }
      if (probe.already_up) notes.push("the server was already up at nop's first probe: its readiness times are not its start-up time");
    }
    const startup: Startup = {
      ...fromLog,
      server: {
        engine: fromLog.server.engine,
        version: fromLog.server.version ?? probe?.version ?? null,
        model: fromLog.server.model ?? probe?.models?.find((m): m is string => typeof m === "string") ?? null,
      },
      ready,
      notes,
    };
    const result: NopConvertResult = { kind: "ok", harnessVersion: ctx.harnessVersion ?? HUB_VERSION, stages: [], warnings, startup };
    return result;
  },
};
