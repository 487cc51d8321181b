import type { Command } from "commander";
import { UserError } from "../../errors.ts";
import { DEFAULTS, NUMBER_SPECS, parseNumberFlag, type SimulatorOptions } from "../../sim/options.ts";

/** Commander's option values: every flag stays a string so we can name it in errors. */
type SimFlags = Record<string, string | undefined>;

/** Flags to library options; throws UserError naming the flag on a bad value. */
export function parseSimFlags(flags: SimFlags): SimulatorOptions {
  const options: SimulatorOptions = {};
  for (const spec of NUMBER_SPECS) {
    const text = flags[spec.key];
    if (text !== undefined) options[spec.key] = parseNumberFlag(spec, text);
  }
  if (flags.host !== undefined) {
    if (flags.host.trim() === "") throw new UserError("--host must be an address, e.g. 127.0.0.1");
    options.host = flags.host;
  }
  if (flags.model !== undefined) {
    if (flags.model.trim() === "") throw new UserError("--model must be a non-empty name");
    options.model = flags.model;
  }
  if (flags.trace !== undefined) options.tracePath = flags.trace;
  return options;
}

export function registerSimCommand(program: Command): void {
  program
    .command("sim")
    .description("Serve an OpenAI-compatible simulator with known latencies: the ground truth to check harnesses against")
    .option("--port <n>", "TCP port (0 = any free port)", "8000")
    .option("--host <addr>", "interface to listen on; keep loopback unless you mean to expose it", DEFAULTS.host)
    .option("--model <name>", "model name served (requests naming another model get 404)", DEFAULTS.model)
    .option("--ttft-ms <ms>", "time to first token, from receipt (or from leaving the queue)", String(DEFAULTS.ttftMs))
    .option("--itl-ms <ms>", "gap between output tokens", String(DEFAULTS.itlMs))
    .option("--ttft-jitter-ms <ms>", "stddev of normal jitter on each TTFT (clipped at 0)", "0")
    .option("--itl-jitter-ms <ms>", "stddev of normal jitter on each token gap (clipped at 0)", "0")
    .option("--failure-rate <fraction>", "fraction 0..1 of requests answered with HTTP 500", "0")
    .option("--max-concurrency <n>", "requests generating at once; the rest queue (queue time counts in TTFT) (default: unlimited)")
    .option("--seed <n>", "seed for jitter and failures, for repeatable runs (default: random)")
    .option("--max-model-len <n>", "context length; longer prompt + max_tokens gets HTTP 400", "32768")
    .option("--default-max-tokens <n>", "output tokens when a request sets no max_tokens", String(DEFAULTS.defaultMaxTokens))
    .option("--precise-wait-ms <ms>", "advanced: sleep precisely (blocking) for the last N ms before each token; 0 = Node timers only", String(DEFAULTS.preciseWaitMs))
    .option("--body-timeout-ms <ms>", "a request body not fully received this long after its headers gets HTTP 408", String(DEFAULTS.bodyTimeoutMs))
    .option("--trace <file>", "append the ground-truth trace (JSONL, one line per request) to this file")
    .addHelpText(
      "after",
      `
Endpoints: POST /v1/completions, POST /v1/chat/completions (streaming or not), GET /v1/models,
GET /health, GET /metrics (vLLM metric names). Every response has exactly max_tokens (or
max_completion_tokens) output tokens, one per SSE chunk; each is one Qwen3 token. Bodies over
16 MiB get HTTP 413; bodies over 256 KiB are parsed and counted on a separate worker thread.
Stop with Ctrl-C (SIGINT) or SIGTERM; the trace file is flushed on exit.`,
    )
    .action(async (flags: SimFlags) => {
      const { startSimulator } = await import("../../sim/server.ts");
      const options = parseSimFlags(flags);
      const sim = await startSimulator(options);
      const o = { ttft: options.ttftMs ?? DEFAULTS.ttftMs, itl: options.itlMs ?? DEFAULTS.itlMs, model: options.model ?? DEFAULTS.model };
      console.log(`hub sim: serving ${o.model} at ${sim.url} (ttft ${o.ttft} ms, itl ${o.itl} ms)`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await sim.close();
      const n = sim.trace().length;
      console.error(`hub sim: stopped after ${n} request${n === 1 ? "" : "s"}${options.tracePath ? `, trace in ${options.tracePath}` : ""}`);
    });
}
