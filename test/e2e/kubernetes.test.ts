/**
 * hub run --runtime kubernetes on a real cluster (scripts/kube-cluster.sh; `.ci/run` brings it up
 * and imports the harness images): inference-perf and aiperf with --parallel 2 against hub's
 * simulator on the host (hostNetwork pods), one merged result equal to the trace; Ctrl-C,
 * --timeout and a missing image leave no Job or pod behind. In CI a missing cluster fails these
 * tests; elsewhere they are skipped with the reason.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { clusterStatus } from "../../src/runtime/kubernetes/index.ts";
import { gc } from "../../src/runtime/kubernetes/gc.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { HUB, tempOut } from "./helpers.ts";
import { checkParallelRun, PARALLEL_CASES } from "./parallel-cases.ts";

const CACHED_KUBECONFIG = join(process.env.HUB_CI_CACHE ?? join(process.env.HOME ?? "/root", ".cache/harness-hub-ci"), "kube/run/kubeconfig");
const kubeconfig = process.env.KUBECONFIG ?? CACHED_KUBECONFIG;
const status = await clusterStatus({ kubeconfig });
const required = process.env.CI !== undefined || process.env.HUB_KUBE_TESTS === "required";
if (!status.ok && !required) console.log(`Kubernetes end-to-end tests skipped: no cluster answers (${status.reason}); bash scripts/kube-cluster.sh up starts one`);

/** A folder with hub.config.yaml for the test cluster: images imported into the node, never pulled. */
const cwd = mkdtempSync(join(tmpdir(), "hub-kube-e2e-"));
writeFileSync(join(cwd, "hub.config.yaml"), `kubernetes:\n  kubeconfig: ${kubeconfig}\n  imagePullPolicy: Never\n`);
const hub = (args: string[], timeout = 600_000) => execa(process.execPath, [HUB, ...args], { cwd, reject: false, timeout, env: { NO_COLOR: "1" } });

/** Whatever any hub run left in the cluster (Jobs, pods, ConfigMaps, Secrets with the run-id label). */
async function leftovers(): Promise<string[]> {
  const r = await gc({ dryRun: true, all: true, allNamespaces: true, kubernetes: { kubeconfig } });
  return [...r.removed, ...r.kept].map((o) => `${o.kind} ${o.namespace}/${o.name}`);
}

describe.skipIf(!status.ok && !required)("hub run --runtime kubernetes", () => {
  beforeAll(() => {
    if (!status.ok) throw new Error(`no Kubernetes cluster answers (${status.reason}); CI brings one up with scripts/kube-cluster.sh`);
  });

  for (const c of PARALLEL_CASES) {
    it(`${c.harness} --parallel 2: one merged result equal to the trace, nothing left`, { timeout: 600_000 }, async () => {
      const { record, metrics } = await checkParallelRun(c, ["--runtime", "kubernetes"], hub);
      expect(metrics.run.runtime).toBe("kubernetes");
      expect(record.workers.map((w: { placement?: string }) => w.placement)).toEqual([expect.stringMatching(/^pod .* on node /), expect.stringMatching(/^pod .* on node /)]);
      expect(await leftovers()).toEqual([]);
    });
  }

  it("Ctrl-C mid-run deletes the Job and its pods and exits 130", { timeout: 300_000 }, async () => {
    const sim = await startSimulator({ port: 0, ttftMs: 50, itlMs: 10 });
    try {
      const out = tempOut("kube-interrupt");
      const child = execa(process.execPath, [HUB, "run", "--runtime", "kubernetes", "--parallel", "2", "--harness", "inference-perf", "--profile", "sanity_random", "-o", "load.stages.0.duration_s=120", "--target", sim.url, "--out", out, "--quiet"], { cwd, reject: false, timeout: 240_000 });
      // Interrupted once the pods are sending: the simulator has seen requests.
      for (let i = 0; i < 600 && sim.trace().length === 0; i++) await new Promise((r) => setTimeout(r, 200));
      expect(sim.trace().length).toBeGreaterThan(0);
      child.kill("SIGINT");
      const r = await child;
      expect(r.exitCode, String(r.stderr)).toBe(130);
      expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).status).toBe("interrupted");
      expect(await leftovers()).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("--timeout stops the workers, keeps what they wrote and leaves nothing", { timeout: 300_000 }, async () => {
    const sim = await startSimulator({ port: 0, ttftMs: 50, itlMs: 10 });
    try {
      const out = tempOut("kube-timeout");
      const r = await hub(["run", "--runtime", "kubernetes", "--parallel", "2", "--harness", "inference-perf", "--profile", "sanity_random", "-o", "load.stages.0.duration_s=300", "--target", sim.url, "--out", out, "--timeout", "40", "--quiet"]);
      expect(r.exitCode, String(r.stderr)).toBe(1);
      expect(JSON.parse(readFileSync(join(out, "run.json"), "utf8")).status).toBe("timed_out");
      expect(await leftovers()).toEqual([]);
    } finally {
      await sim.close();
    }
  });

  it("an image the node does not have fails fast, saying how to get it there", { timeout: 120_000 }, async () => {
    const started = Date.now();
    const r = await hub(["run", "--runtime", "kubernetes", "--image", "harness-hub/not-there:1", "--harness", "inference-perf", "--profile", "sanity_random", "-o", "load.stages.0.duration_s=5", "--out", tempOut("kube-noimage"), "--quiet"]);
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toMatch(/not-there:1/);
    expect(String(r.stderr)).toMatch(/kube-cluster\.sh import|--image/);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(await leftovers()).toEqual([]);
  });
});
