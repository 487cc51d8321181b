import { z } from "zod";

/**
 * The harness-neutral workload profile. It describes what load to offer, never which tool
 * offers it, nor where (target URL and model are run-time arguments).
 */

/** Bounds that make an impossible number a mistake rather than a workload: no model has a 10M-token context. */
export const MAX_TOKENS = 10_000_000;
export const MAX_DURATION_S = 30 * 24 * 3600;
const tokens = z.number().int().positive().max(MAX_TOKENS);

export const LengthDistribution = z
  .strictObject({
    mean: tokens.describe("Mean length in tokens"),
    stddev: z.number().nonnegative().max(MAX_TOKENS).default(0).describe("Standard deviation in tokens; 0 gives fixed lengths"),
    min: tokens.optional().describe("Smallest length in tokens"),
    max: tokens.optional().describe("Largest length in tokens"),
  })
  .superRefine((d, ctx) => {
    if (d.min !== undefined && d.min > d.mean) ctx.addIssue({ code: "custom", path: ["min"], message: `min (${d.min}) must not exceed mean (${d.mean})` });
    if (d.max !== undefined && d.max < d.mean) ctx.addIssue({ code: "custom", path: ["max"], message: `max (${d.max}) must not be below mean (${d.mean})` });
  })
  .describe("A token-length distribution (normal, clipped to [min, max])");

export const Stage = z
  .strictObject({
    concurrency: z.number().int().positive().max(1_000_000).optional().describe("Closed-loop streams (concurrent), or the in-flight cap (throughput)"),
    rate: z.number().positive().max(1_000_000).optional().describe("Requests per second offered (constant, poisson)"),
    duration_s: z.number().positive().max(MAX_DURATION_S).optional().describe("How long the stage runs, in seconds (at most 30 days)"),
    requests: z.number().int().positive().max(1_000_000_000).optional().describe("How many requests the stage sends"),
  })
  .describe("One load point; a stage ends at duration_s or after requests, whichever is set");

export const LOAD_TYPES = ["synchronous", "concurrent", "constant", "poisson", "throughput", "sweep"] as const;

export const Load = z
  .strictObject({
    type: z
      .enum(LOAD_TYPES)
      .describe(
        "synchronous: one request at a time; concurrent: N closed-loop streams per stage; constant/poisson: open-loop arrivals at a rate; throughput: as fast as possible (optionally capped); sweep: synchronous to throughput in sweep.points steps",
      ),
    stages: z.array(Stage).min(1).describe("Load points, run in order"),
    sweep: z
      .strictObject({
        points: z.number().int().min(2).max(1000).default(10).describe("Number of load points including synchronous and throughput"),
      })
      .optional()
      .describe("Only for type sweep"),
  })
  .superRefine((load, ctx) => {
    load.stages.forEach((s, i) => {
      const at = (key: string) => ["stages", i, key];
      if (s.duration_s === undefined && s.requests === undefined) {
        ctx.addIssue({ code: "custom", path: ["stages", i], message: "a stage needs duration_s or requests" });
      }
      const needs = load.type === "concurrent" ? "concurrency" : load.type === "constant" || load.type === "poisson" ? "rate" : undefined;
      if (needs && s[needs] === undefined) {
        ctx.addIssue({ code: "custom", path: at(needs), message: `load type ${load.type} needs ${needs} in every stage` });
      }
      if (load.type === "concurrent" && s.rate !== undefined) {
        ctx.addIssue({ code: "custom", path: at("rate"), message: "load type concurrent takes concurrency, not rate" });
      }
      if ((load.type === "constant" || load.type === "poisson" || load.type === "synchronous" || load.type === "sweep") && s.concurrency !== undefined) {
        ctx.addIssue({ code: "custom", path: at("concurrency"), message: `load type ${load.type} takes no concurrency` });
      }
      if ((load.type === "synchronous" || load.type === "throughput" || load.type === "sweep") && s.rate !== undefined) {
        ctx.addIssue({ code: "custom", path: at("rate"), message: `load type ${load.type} takes no rate` });
      }
    });
    if (load.type === "sweep" && load.stages.length !== 1) {
      ctx.addIssue({ code: "custom", path: ["stages"], message: "load type sweep takes exactly one stage: the length of each sweep point" });
    }
    if (load.type !== "sweep" && load.sweep !== undefined) {
      ctx.addIssue({ code: "custom", path: ["sweep"], message: "sweep settings are only for load type sweep" });
    }
  });

export const SharedPrefix = z.strictObject({
  groups: z.number().int().positive().max(1_000_000).describe("Distinct shared prefixes"),
  prompts_per_group: z.number().int().positive().max(1_000_000).describe("Distinct questions per prefix"),
  prefix_tokens: tokens.describe("Length of each shared prefix"),
  question_tokens: tokens.describe("Length of the unique part after the prefix"),
});

export const DATA_TYPES = ["random", "shared_prefix", "file"] as const;

export const Data = z
  .strictObject({
    type: z.enum(DATA_TYPES).describe("random: synthetic prompts; shared_prefix: groups of prompts sharing a prefix; file: prompts from a JSONL file"),
    input_tokens: LengthDistribution.optional().describe("Prompt lengths (random)"),
    output_tokens: LengthDistribution.optional().describe("Output lengths (all types); the server is asked to ignore EOS"),
    shared_prefix: SharedPrefix.optional().describe("Only for type shared_prefix"),
    path: z.string().optional().describe("Only for type file: a JSONL file, one {\"prompt\": ...} per line"),
    seed: z.number().int().nonnegative().max(2 ** 32 - 1).default(42).describe("Seed for everything random in the workload"),
  })
  .superRefine((d, ctx) => {
    if (d.type === "random" && !d.input_tokens) ctx.addIssue({ code: "custom", path: ["input_tokens"], message: "data type random needs input_tokens" });
    if (d.type !== "file" && !d.output_tokens) ctx.addIssue({ code: "custom", path: ["output_tokens"], message: `data type ${d.type} needs output_tokens` });
    if (d.type === "shared_prefix" && !d.shared_prefix) ctx.addIssue({ code: "custom", path: ["shared_prefix"], message: "data type shared_prefix needs shared_prefix settings" });
    if (d.type !== "shared_prefix" && d.shared_prefix) ctx.addIssue({ code: "custom", path: ["shared_prefix"], message: "shared_prefix settings are only for data type shared_prefix" });
    if (d.type === "file" && !d.path) ctx.addIssue({ code: "custom", path: ["path"], message: "data type file needs path" });
  });

export const Profile = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.', '-' only").max(128).describe("Profile name (it names the results folder, so at most 128 characters)"),
    description: z.string().default("").describe("What this workload represents and where its numbers come from"),
    api: z
      .strictObject({
        type: z.enum(["completion", "chat"]).default("completion").describe("/v1/completions or /v1/chat/completions"),
        streaming: z.boolean().default(true).describe("Stream tokens (needed for TTFT, ITL, TPOT)"),
      })
      .prefault({})
      .describe("The OpenAI-compatible API the load uses"),
    load: Load.describe("How requests are offered"),
    data: Data.describe("What the requests contain"),
    limits: z
      .strictObject({
        max_duration_s: z.number().positive().max(MAX_DURATION_S).optional().describe("Stop the whole run after this many seconds"),
        max_requests: z.number().int().positive().max(1_000_000_000).optional().describe("Stop each stage after this many requests"),
        max_error_rate: z.number().min(0).max(1).optional().describe("Stop a stage once this fraction of requests has failed"),
      })
      .prefault({})
      .describe("Safety limits"),
  })
  .describe("harness-hub workload profile (harness-neutral)");

export type Profile = z.infer<typeof Profile>;
export type ProfileInput = z.input<typeof Profile>;
export type LengthDistribution = z.infer<typeof LengthDistribution>;
