import type { Command } from "commander";
import { UserError } from "../../errors.ts";
import { withInterrupts } from "../interrupt.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

export function positiveNumber(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UserError(`${flag} must be a positive number, got "${value}"`);
    return n;
  };
}

export function positiveInteger(flag: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`${flag} must be a whole number of at least 1, got "${value}"`);
    return n;
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("Run a workload profile with a harness and write normalised metrics")
    .requiredOption("--harness <name>", "harness to run (see `hub harnesses list`)")
    .option("--profile <name|path>", "built-in profile name or a YAML file (see `hub profiles list`); needed by every harness that sends load")
    .option("--target <url>", "OpenAI-compatible server root; default: hub's simulator on a free loopback port")
    .option("--model <name>", "model to request; default: the first one the target lists")
    .option("--runtime <name>", "where the harness runs: local (a venv), docker (a container) or kubernetes (a Job on a cluster)", "local")
    .option("--image <ref>", "with --runtime docker or kubernetes: run this image (e.g. an upstream one or a registry reference) instead of hub's own")
    .option("--parallel <n>", "load generators sharing the profile's load (rates, streams and request counts divided among them); their per-request records are pooled into one result", positiveInteger("--parallel"), 1)
    .option("--keep-partial", "with --parallel: a failed worker is left out of the merged result instead of failing the run")
    .option("--namespace <ns>", "with --runtime kubernetes: the namespace for the Job (default: default)")
    .option("--kubeconfig <file>", "with --runtime kubernetes: kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster credentials)")
    .option("-o, --override <path=value>", "override a profile field, e.g. load.stages.0.concurrency=4 (repeatable)", collect, [])
    .option("--out <dir>", "results directory; default results/<timestamp>-<harness>-<profile>/")
    .option("--tokenizer <dir>", "Hugging Face tokenizer directory for the harness; default: the bundled Qwen3 tokenizer")
    .option("--sim-ttft-ms <ms>", "TTFT of the built-in simulator (without --target)", positiveNumber("--sim-ttft-ms"))
    .option("--sim-itl-ms <ms>", "ITL of the built-in simulator (without --target)", positiveNumber("--sim-itl-ms"))
    .option("--timeout <s>", "stop the harness after this many seconds", positiveNumber("--timeout"))
    .option("--server-log <file>", "the target server's log: kept as native/server.log when the harness ends (nop reads its start-up from it)")
    .option("--server-container <name>", "a Docker container running the target: its log is kept as native/server.log when the harness ends")
    .option("--json", "print metrics.json to stdout instead of the summary table")
    .option("-q, --quiet", "hide harness output and progress")
    .addHelpText(
      "after",
      "\nExamples:\n  hub run --harness guidellm --profile sanity_concurrent\n  hub run --harness inference-perf --profile sanity_random --parallel 2\n  hub run --runtime kubernetes --parallel 4 --harness inference-perf --profile sanity_random --target http://10.0.0.5:8000\n  hub run --harness guidellm --profile sanity_concurrent --target http://127.0.0.1:8000 -o load.stages.0.duration_s=10",
    )
    .action(async (o) => {
      const { runBenchmark } = await import("../../run/run.ts");
      const { terminalReporter } = await import("../../report/terminal.ts");
      const { kubernetesConfig } = await import("../../config.ts");
      const reporter = terminalReporter({ quiet: Boolean(o.quiet), json: Boolean(o.json) });
      const outcome = await withInterrupts("the run", (signal) =>
        runBenchmark(
          {
            harness: o.harness,
            profile: o.profile,
            overrides: o.override,
            target: o.target,
            model: o.model,
            runtime: o.runtime,
            image: o.image,
            parallel: o.parallel,
            keepPartial: Boolean(o.keepPartial),
            runtimeOptions: { kubernetes: { ...kubernetesConfig(), ...(o.namespace ? { namespace: o.namespace } : {}), ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) } },
            out: o.out,
            tokenizer: o.tokenizer,
            sim: { ttftMs: o.simTtftMs, itlMs: o.simItlMs },
            timeoutS: o.timeout,
            serverLog: o.serverLog,
            serverContainer: o.serverContainer,
            signal,
          },
          reporter,
        ),
      );
      process.exitCode = outcome.kind === "ok" ? 0 : outcome.kind === "interrupted" ? 130 : 1;
    });
}
