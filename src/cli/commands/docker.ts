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
    .description("Remove containers left behind by hub runs that crashed or were killed (label harness-hub.run-id)")
    .option("--all", "also remove containers of hub processes that are still running")
    .option("--run-id <id>", "only the containers of this run")
    .option("--dry-run", "list what would be removed")
    .action(async (o: { all?: boolean; runId?: string; dryRun?: boolean }) => {
      const { getHarness } = await import("../../harness/registry.ts");
      const { renderTable } = await import("../../report/table.ts");
      const { buildHarnessImage, formatBytes, imageRef, imageSource, imageState, unbuildable } = await import("../../runtime/docker/build.ts");
      const { gc } = await import("../../runtime/docker/gc.ts");
      const r = await gc({ all: Boolean(o.all), dryRun: Boolean(o.dryRun), ...(o.runId ? { runId: o.runId } : {}) });
      if (r.removed.length === 0 && r.kept.length === 0) {
        console.log("no hub containers found");
        return;
      }
      const rows = [
        ...r.removed.map((c) => [c.id.slice(0, 12), c.name, c.runId, c.harness, c.state, o.dryRun ? "would remove" : "removed"]),
        ...r.kept.map((c) => [c.id.slice(0, 12), c.name, c.runId, c.harness, c.state, `kept: ${c.keptBecause}`]),
      ];
      console.log(renderTable(["container", "name", "run", "harness", "state", "action"], rows));
    });
}
