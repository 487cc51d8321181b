import { z } from "zod";

/** Bumped on any change a reader of metrics.json must know about. */
export const METRICS_SCHEMA_VERSION = "1.0.0";

export const Provenance = z
  .strictObject({
    source: z
      .enum(["recomputed", "native"])
      .describe("recomputed: from per-request data with hub's definitions; native: the harness's own aggregate, kept as is"),
    native_field: z.string().optional().describe("Where the value came from in the harness output (native) or which per-request fields it was recomputed from"),
    note: z.string().optional().describe("Any difference between the harness's definition and hub's (docs/metrics.md)"),
  })
  .describe("Where a distribution came from");

const stat = z.number().nullable();

export const Distribution = z
  .strictObject({
    count: z.number().int().nonnegative().describe("Number of samples (requests, or token gaps for ITL)"),
    mean: stat,
    stddev: stat.describe("Population standard deviation"),
    min: stat,
    max: stat,
    p50: stat,
    p90: stat,
    p95: stat,
    p99: stat,
    p999: stat,
    provenance: Provenance,
  })
  .describe("A distribution; every statistic is null when count is 0 or the harness did not report it");

export const LoadPoint = z.strictObject({
  type: z.enum(["synchronous", "concurrent", "constant", "poisson", "throughput", "sweep"]),
  concurrency: z.number().positive().optional().describe("Closed-loop streams, or the in-flight cap"),
  rate: z.number().positive().optional().describe("Requests per second offered"),
});

export const WorkerBreakdown = z.strictObject({
  worker: z.number().int().nonnegative().describe("Worker index (0-based), as native/worker-<i>/"),
  seed: z.number().int().nonnegative().nullable().describe("The data seed the worker ran with"),
  requests: z.number().int().nonnegative().describe("Requests the worker recorded in this stage"),
  failed: z.number().int().nonnegative(),
  window_start_s: z.number().nullable().describe("First send, in the worker's clock (epoch seconds where the harness uses them)"),
  window_end_s: z.number().nullable().describe("Last end, in the worker's clock"),
  ttft_ms_p50: z.number().nullable(),
  ttft_ms_p99: z.number().nullable(),
  itl_ms_p50: z.number().nullable(),
  itl_ms_p99: z.number().nullable(),
});

export const Stage = z.strictObject({
  index: z.number().int().nonnegative(),
  load: LoadPoint,
  duration_s: z.number().nonnegative().describe("Wall window the throughputs are divided by"),
  requests: z.strictObject({
    total: z.number().int().nonnegative(),
    successful: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    incomplete: z.number().int().nonnegative().describe("Started but cut off by the end of the stage; not counted as failed"),
  }),
  failure_rate: z.number().min(0).max(1).nullable().describe("failed / (successful + failed); null when no request finished"),
  throughput: z.strictObject({
    requests_per_s: z.number().nonnegative().nullable(),
    input_tokens_per_s: z.number().nonnegative().nullable(),
    output_tokens_per_s: z.number().nonnegative().nullable(),
    total_tokens_per_s: z.number().nonnegative().nullable(),
  }),
  latency: z.strictObject({
    ttft_ms: Distribution.describe("Time to first token"),
    tpot_ms: Distribution.describe("Time per output token after the first: (e2e - ttft) / (n - 1), per request"),
    itl_ms: Distribution.describe("Inter-token latency: gaps between consecutive output tokens, pooled over requests"),
    ntpot_ms: Distribution.describe("Normalised time per output token: e2e / n, per request"),
    e2e_ms: Distribution.describe("End-to-end request latency"),
  }),
  tokens: z
    .strictObject({
      input_per_request: Distribution,
      output_per_request: Distribution,
    })
    .describe("Token counts of successful requests"),
  notes: z.array(z.string()).describe("Warnings about this stage (lossy mappings, approximations)"),
  workers: z
    .array(WorkerBreakdown)
    .optional()
    .describe("With --parallel: each load generator's share; the stage's distributions pool all their per-request records"),
});

const seconds = z.number().nonnegative().nullable();
const gib = z.number().nonnegative().nullable();
const sourceLine = z.strictObject({ line: z.number().int().positive().describe("1-based line number in the log"), text: z.string() });

export const StartupPhase = z
  .strictObject({
    name: z.string().describe("platform_detection, imports, model_info, worker_init, model_loading, torch_compile, cuda_graph_capture, api_server_start"),
    title: z.string(),
    found: z.boolean().describe("false: the log has no line that starts or ends this phase; its numbers are null, never 0"),
    start_offset_s: z.number().nullable().describe("From the log's first timestamped line to the phase's first line, in seconds"),
    duration_s: seconds.describe("From the phase's first line to its last, by the log's own timestamps (vLLM prints whole seconds)"),
    reported_s: seconds.describe("The duration the log itself states for the phase (e.g. 'Model loading took ... seconds'), when it states one"),
    source: z.array(sourceLine).describe("The log lines that start and end the phase"),
    note: z.string().optional(),
  })
  .describe("One phase of the server's start-up, read from its log");

export const Startup = z
  .strictObject({
    log: z
      .strictObject({
        path: z.string().nullable(),
        lines: z.number().int().nonnegative(),
        timestamped_lines: z.number().int().nonnegative(),
        first_timestamp: z.string().nullable().describe("The first timestamp as the log prints it (vLLM: MM-DD hh:mm:ss, local time, no year)"),
      })
      .nullable()
      .describe("The server log the phases were read from; null when there was none"),
    server: z.strictObject({ engine: z.string().nullable(), version: z.string().nullable(), model: z.string().nullable() }),
    ready: z
      .strictObject({
        health_s: seconds.describe("From the first probe until GET /health answered 200"),
        models_s: seconds.describe("From the first probe until GET /v1/models answered 200"),
        already_up: z.boolean().describe("Both answered the first probe: the server had started before the probe, so these times are not its start-up"),
      })
      .nullable()
      .describe("When the server's endpoints answered, measured by polling them; null when not probed"),
    total_s: seconds.describe("From the log's first timestamped line to the API server's start-up complete line"),
    phases: z.array(StartupPhase),
    model_loading: z
      .strictObject({ gib, seconds, source: sourceLine })
      .nullable()
      .describe("The log's 'Model loading took X GiB and Y seconds' figures"),
    sleep_wake: z
      .array(
        z.strictObject({
          type: z.enum(["sleep", "wake"]),
          seconds: z.number().nonnegative().describe("As the log states it"),
          offset_s: z.number().nullable().describe("From the log's first timestamped line"),
          freed_gib: gib,
          in_use_gib: gib,
          source: sourceLine,
        }),
      )
      .describe("Sleep-mode transitions the log records"),
    notes: z.array(z.string()),
  })
  .describe("The target server's start-up (harnesses that measure it, e.g. nop); absent otherwise");

export const Metrics = z
  .strictObject({
    schema_version: z.literal(METRICS_SCHEMA_VERSION),
    run: z.strictObject({
      id: z.string(),
      harness: z.strictObject({ name: z.string(), version: z.string().nullable() }),
      profile: z.string(),
      target: z.string().nullable(),
      model: z.string().nullable(),
      runtime: z.string().nullable().describe("local, docker, ...; null when converted outside a run"),
      started_at: z.string().nullable().describe("ISO 8601"),
      ended_at: z.string().nullable(),
      exit_code: z.number().int().nullable(),
    }),
    stages: z.array(Stage),
    startup: Startup.optional(),
  })
  .describe("hub unified metrics (docs/metrics.md)");

export type Provenance = z.infer<typeof Provenance>;
export type Distribution = z.infer<typeof Distribution>;
export type LoadPoint = z.infer<typeof LoadPoint>;
export type Stage = z.infer<typeof Stage>;
export type Metrics = z.infer<typeof Metrics>;
export type LatencyKey = keyof Stage["latency"];
export type Startup = z.infer<typeof Startup>;
export type StartupPhase = z.infer<typeof StartupPhase>;
