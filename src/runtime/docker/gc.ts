import { hostname } from "node:os";
import { connect, LABELS } from "./engine.ts";
import { removeContainer } from "./container.ts";
import { processAlive } from "../process.ts";

export interface Leftover {
  id: string;
  name: string;
  runId: string;
  harness: string;
  state: string;
  /** Why it stays: its hub process is alive. */
  keptBecause?: string;
}


/**
 * Containers hub created (label harness-hub.run-id) that no running hub owns: left by a hub that
 * crashed or was killed. Containers of a live hub on this host are kept unless `all`.
 */
export async function gc(opts: { all?: boolean; dryRun?: boolean; runId?: string } = {}): Promise<{ removed: Leftover[]; kept: Leftover[] }> {
  const docker = await connect();
  const filters = { label: [opts.runId ? `${LABELS.runId}=${opts.runId}` : LABELS.runId] };
  const list = await docker.listContainers({ all: true, filters: JSON.stringify(filters) });
  const removed: Leftover[] = [];
  const kept: Leftover[] = [];
  const me = hostname();
  for (const c of list) {
    const labels = c.Labels ?? {};
    const item: Leftover = {
      id: c.Id,
      name: (c.Names?.[0] ?? "").replace(/^\//, ""),
      runId: labels[LABELS.runId] ?? "",
      harness: labels[LABELS.harness] ?? "",
      state: c.State,
    };
    const pid = Number(labels[LABELS.pid]);
    if (!opts.all && labels[LABELS.host] === me && Number.isInteger(pid) && pid > 0 && processAlive(pid)) {
      item.keptBecause = `hub process ${pid} is still running (--all removes it anyway)`;
      kept.push(item);
      continue;
    }
    if (!opts.dryRun) await removeContainer(docker, c.Id);
    removed.push(item);
  }
  return { removed, kept };
}
