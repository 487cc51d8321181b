import type { Command } from "commander";

/**
 * The Docker runtime's commands: `hub harness build <name>` (under the `harness` command that
 * harnesses.ts registers, so register this after it) and `hub gc`.
 */
export function registerDockerCommands(program: Command): void {
  const harness = program.commands.find((c) => c.name() === "harness") ?? program.command("harness").description("Manage one harness");
  harness
    .command("build <name>")
    .description("Build the harness's Docker image for `hub run --runtime docker` (otherwise the first such run builds it)")
    .option("--base-image <ref>", "image to build FROM; default $HUB_DOCKER_BASE_IMAGE, else python:3.12-slim (or the harness's minimum Python)")
    .option("--no-cache", "rebuild every layer")
    .option("--if-needed", "do nothing when the image exists and was built from the current Dockerfile and install spec")
    .option("-q, --quiet", "print only the result")
    .action(async (name: string, o: { baseImage?: string; cache: boolean; quiet?: boolean; ifNeeded?: boolean }) => {
      const { getHarness } = await import("../../harness/registry.ts");
      const { renderTable } = await import("../../report/table.ts");
      const { buildHarnessImage, formatBytes, imageRef, imageSource, imageState, unbuildable } = await import("../../runtime/docker/build.ts");
      const { gc } = await import("../../runtime/docker/gc.ts");
      const h = getHarness(name);
      if (imageSource(h) === "none") {
        // Nothing to build, and nothing wrong: scripts that build every harness's image go on.
        console.log(`no image for ${h.name}: ${unbuildable(h)}`);
        return;
      }
      if (o.ifNeeded) {
        const state = await imageState(h);
        if (state.kind === "ok") {
          console.log(`${imageRef(h)} is up to date (${state.id.replace(/^sha256:/, "").slice(0, 12)})`);
          return;
        }
      }
      const r = await buildHarnessImage(h, {
        ...(o.baseImage ? { baseImage: o.baseImage } : {}),
        noCache: !o.cache,
        onLine: (l) => {
          if (!o.quiet) process.stderr.write(`  ${l}\n`);
        },
      });
      if (r.kind === "failed") {
        process.stderr.write(`hub: ${r.reason}\n`);
        process.exitCode = 1;
        return;
      }
      console.log(`built ${r.image} (${formatBytes(r.sizeBytes)}, ${r.imageId.replace(/^sha256:/, "").slice(0, 12)}) in ${(r.durationMs / 1000).toFixed(1)} s`);
    });

  program
    .command("gc")
    .description("Remove what hub runs that crashed or were killed left behind (label harness-hub.run-id): Docker containers, and Kubernetes Jobs, pods, ConfigMaps and Secrets")
    .option("--all", "also remove what belongs to hub processes that are still running")
    .option("--run-id <id>", "only this run's")
    .option("--dry-run", "list what would be removed")
    .option("--namespace <ns>", "Kubernetes: this namespace (default: the configured one)")
    .option("--all-namespaces", "Kubernetes: every namespace")
    .action(async (o: { all?: boolean; runId?: string; dryRun?: boolean; namespace?: string; allNamespaces?: boolean }) => {
      const { renderTable } = await import("../../report/table.ts");
      const rows: string[][] = [];
      const unreachable: string[] = [];
      const action = (kept?: string) => (kept ? `kept: ${kept}` : o.dryRun ? "would remove" : "removed");
      const common = { all: Boolean(o.all), dryRun: Boolean(o.dryRun), ...(o.runId ? { runId: o.runId } : {}) };
      // Each place is cleaned where it answers; one that is not there is said, not an error.
      const { gc } = await import("../../runtime/docker/gc.ts");
      try {
        const r = await gc(common);
        for (const c of r.removed) rows.push(["docker", "container", c.name, c.runId, c.harness, c.state, action()]);
        for (const c of r.kept) rows.push(["docker", "container", c.name, c.runId, c.harness, c.state, action(c.keptBecause)]);
      } catch (e) {
        unreachable.push(`Docker: ${(e as Error).message.split("\n")[0]}`);
      }
      const kube = await import("../../runtime/kubernetes/index.ts");
      const { kubernetesConfig } = await import("../../config.ts");
      const kubernetes = { ...kubernetesConfig(), ...(o.namespace ? { namespace: o.namespace } : {}) };
      const status = await kube.clusterStatus(kubernetes);
      if (status.ok) {
        const r = await kube.gc({ ...common, kubernetes, allNamespaces: Boolean(o.allNamespaces) });
        for (const c of r.removed) rows.push(["kubernetes", c.kind, `${c.namespace}/${c.name}`, c.runId, c.harness, c.state ?? "", action()]);
        for (const c of r.kept) rows.push(["kubernetes", c.kind, `${c.namespace}/${c.name}`, c.runId, c.harness, c.state ?? "", action(c.keptBecause)]);
      } else unreachable.push(`Kubernetes: ${status.reason}`);
      for (const u of unreachable) process.stderr.write(`hub: not cleaned: ${u}\n`);
      // Nothing reachable at all is a mistake to fix (start Docker, point KUBECONFIG at the cluster).
      if (unreachable.length === 2) {
        process.exitCode = 2;
        return;
      }
      if (rows.length === 0) {
        console.log("nothing left behind by hub runs");
        return;
      }
      console.log(renderTable(["where", "kind", "name", "run", "harness", "state", "action"], rows));
    });
}
