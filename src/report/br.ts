import { createHash } from "node:crypto";
import type { Distribution, LatencyKey, Stage } from "../metrics/schema.ts";
import type { LoadedRun } from "./load.ts";

/**
 * hub metrics → llm-d Benchmark Report v0.2, one report per stage (llm-d's own layout: reports
 * of one run share `run.eid` and carry `scenario.load.standardized.stage`). What it does
 * differently from llm-d's converters (reference: llm-d-benchmark.md §3.6), on purpose:
 *
 * - one unit per quantity, seconds (`s`, `s/token`), always labelled. Consumers that honour
 *   `units` read it right, and so does llm-d's cross_treatment.py, which assumes seconds;
 * - only statistics hub has, under their exact key names (no `P25`-style typos, which the
 *   Statistics model would drop silently); p99.9 goes to `p99p9`;
 * - `input_token_rate` is always filled (hub computes it for every harness);
 * - `requests.total` is every request sent, `failures` the failed ones, `incomplete` those cut
 *   off by the end of the stage, whatever the harness;
 * - a value that is a harness's own aggregate *and* defined differently from BR's definition
 *   (provenance note) is left out rather than passed through under BR's name; a warning says so.
 *
 * `scenario.load.native` holds the harness command line from run.json (`args.argv`) and hub's
 * resolved profile (`config`), the harness-neutral source the harness's own config was made from.
 * `scenario.stack` is left out: hub knows the model's name (in `run.keywords`), not the stack.
 */

export const BR_VERSION = "0.2";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json | undefined };
export type BrReport = { [k: string]: Json | undefined };

export interface BrExport {
  /** llm-d's naming, so its tooling globs find it: `benchmark_report_v0.2,_stage_<i>.yaml`. */
  fileName: string;
  stage: number;
  report: BrReport;
}

// RFC 4122 name-based UUIDs, so exporting a run twice gives the same ids.
const NS_URL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
const NS_DNS = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
export function uuid5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const h = createHash("sha1").update(ns).update(name, "utf8").digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Float noise off (0.0456 rather than 0.045600000000000004). */
const clean = (x: number) => Number(x.toPrecision(12));

function statistics(d: Distribution, units: string, scale: number): BrReport | undefined {
  if (d.mean === null) return undefined; // BR requires mean; no samples, no block
  const out: BrReport = { units, mean: clean(d.mean * scale) };
  const keys: [keyof Distribution, string][] = [
    ["stddev", "stddev"],
    ["min", "min"],
    ["p50", "p50"],
    ["p90", "p90"],
    ["p95", "p95"],
    ["p99", "p99"],
    ["p999", "p99p9"],
    ["max", "max"],
  ];
  for (const [from, to] of keys) {
    const v = d[from];
    if (typeof v === "number") out[to] = clean(v * scale);
  }
  return out;
}

const rate = (v: number | null, units: string) => (v === null ? undefined : { units, mean: clean(v) });

const LATENCY: [LatencyKey, string, string][] = [
  ["ttft_ms", "time_to_first_token", "s"],
  ["ntpot_ms", "normalized_time_per_output_token", "s/token"],
  ["tpot_ms", "time_per_output_token", "s/token"],
  ["itl_ms", "inter_token_latency", "s/token"],
  ["e2e_ms", "request_latency", "s"],
];

/** Drops undefined fields and empty objects, except `native`, which BR requires even empty. */
function prune(o: BrReport): BrReport {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) delete o[k];
    else if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      prune(v as BrReport);
      if (Object.keys(v).length === 0 && k !== "native") delete o[k];
    }
  }
  return o;
}

type Lengths = { mean?: number; stddev?: number; min?: number; max?: number } | undefined;

/** A profile length distribution → SequenceLength: hub draws a normal clipped to [min, max]. */
function seqLen(spec: Lengths, measured: Distribution): BrReport | undefined {
  if (spec && typeof spec.mean === "number") {
    const gaussian = (spec.stddev ?? 0) > 0;
    return {
      distribution: gaussian ? "gaussian" : "fixed",
      value: spec.mean,
      ...(gaussian ? { std_dev: spec.stddev } : {}),
      ...(gaussian && spec.min !== undefined ? { min: spec.min } : {}),
      ...(gaussian && spec.max !== undefined ? { max: spec.max } : {}),
    };
  }
  // No profile (a converted metrics.json, or prompts from a file): what was measured.
  if (measured.mean === null) return undefined;
  return {
    distribution: "other",
    value: clean(measured.mean),
    ...(measured.stddev !== null ? { std_dev: clean(measured.stddev) } : {}),
    ...(measured.min !== null ? { min: Math.round(measured.min) } : {}),
    ...(measured.max !== null && measured.max >= 1 ? { max: Math.round(measured.max) } : {}),
  };
}

function isoDuration(s: number): string {
  return `PT${clean(Number(s.toFixed(3)))}S`;
}

interface ProfileShape {
  description?: string;
  data?: {
    type?: string;
    input_tokens?: Lengths;
    output_tokens?: Lengths;
    shared_prefix?: { groups?: number; prompts_per_group?: number; prefix_tokens?: number; question_tokens?: number };
  };
}

export function toBenchmarkReports(run: LoadedRun, warn: (m: string) => void = () => {}): BrExport[] {
  const m = run.metrics;
  const profile = (run.profile ?? {}) as ProfileShape;
  const eid = uuid5(NS_URL, m.run.id);
  const target = run.runRecord?.target_is_simulator ? "hub-simulator" : m.run.target;
  const single = m.stages.length === 1;
  const cfgId = run.profileText ? createHash("sha256").update(run.profileText).digest("hex").slice(0, 16) : undefined;
  const argv = (stage: number) => {
    const cmds = run.runRecord?.commands ?? [];
    const c = cmds.find((x) => x.stage === stage) ?? cmds[0];
    return c?.argv ? { argv: c.argv } : undefined;
  };

  return m.stages.map((s: Stage) => {
    const left: string[] = [];
    const latency: BrReport = {};
    for (const [key, name, units] of LATENCY) {
      const d = s.latency[key];
      if (d.provenance.source === "native" && d.provenance.note) {
        left.push(`${name} (${m.run.harness.name}'s own ${d.provenance.native_field ?? key}: ${d.provenance.note})`);
        continue;
      }
      latency[name] = statistics(d, units, 1 / 1000);
    }
    for (const l of left) warn(`stage ${s.index}: left out ${l}`);

    const d = profile.data;
    const sp = d?.type === "shared_prefix" ? d.shared_prefix : undefined;
    const input: Lengths =
      sp?.prefix_tokens !== undefined && sp.question_tokens !== undefined ? { mean: sp.prefix_tokens + sp.question_tokens } : d?.type === "file" ? undefined : d?.input_tokens;
    const approx = LATENCY.map(([k, name]) => [name, s.latency[k].provenance] as const)
      .filter(([, p]) => p.source === "recomputed" && p.note)
      .map(([name, p]) => `${name}: ${p.note}`);
    const description = [profile.description || undefined, ...approx.map((a) => `hub note, ${a}`), ...left.map((l) => `hub left out ${l}`)].filter(Boolean).join(" | ");

    const report: BrReport = {
      version: BR_VERSION,
      run: {
        uid: uuid5(eid, `stage/${s.index}`),
        eid,
        cid: target ? uuid5(NS_DNS, target) : undefined,
        time: {
          // Stage boundaries are not in metrics.json; the run's are right only for one stage.
          start: single ? (m.run.started_at ?? undefined) : undefined,
          end: single ? (m.run.ended_at ?? undefined) : undefined,
          duration: isoDuration(s.duration_s),
        },
        description: single ? m.run.id : `${m.run.id} stage ${s.index}`,
        keywords: ["harness-hub", `harness=${m.run.harness.name}`, `profile=${m.run.profile}`, ...(m.run.model ? [`model=${m.run.model}`] : [])],
      },
      scenario: {
        load: {
          metadata: { schema_version: "0.0.1", cfg_id: cfgId, description: description || undefined },
          standardized: {
            tool: m.run.harness.name,
            tool_version: m.run.harness.version ?? "unknown",
            parallelism: 1, // hub runs one load generator per run
            source: d?.type === "file" ? "sampled" : d?.type ? "random" : "unknown",
            stage: s.index,
            input_seq_len: seqLen(input, s.tokens.input_per_request) ?? { distribution: "other", value: 0 },
            output_seq_len: seqLen(d?.output_tokens, s.tokens.output_per_request),
            prefix:
              sp?.prefix_tokens !== undefined && sp.groups !== undefined && sp.prompts_per_group !== undefined
                ? { prefix_len: { distribution: "fixed", value: sp.prefix_tokens }, num_groups: sp.groups, num_users_per_group: sp.prompts_per_group, num_prefixes: 1 }
                : undefined,
            rate_qps: s.load.rate,
            concurrency: s.load.concurrency !== undefined ? Math.max(1, Math.round(s.load.concurrency)) : s.load.type === "synchronous" ? 1 : undefined,
          },
          native: { args: argv(s.index), config: (run.profile as Json) ?? undefined },
        },
      },
      results: {
        request_performance: {
          aggregate: {
            requests: {
              total: s.requests.total,
              failures: s.requests.failed,
              incomplete: s.requests.incomplete,
              input_length: statistics(s.tokens.input_per_request, "count", 1),
              output_length: statistics(s.tokens.output_per_request, "count", 1),
            },
            latency,
            throughput: {
              input_token_rate: rate(s.throughput.input_tokens_per_s, "tokens/s"),
              output_token_rate: rate(s.throughput.output_tokens_per_s, "tokens/s"),
              total_token_rate: rate(s.throughput.total_tokens_per_s, "tokens/s"),
              request_rate: rate(s.throughput.requests_per_s, "queries/s"),
            },
          },
        },
      },
    };
    return { fileName: `benchmark_report_v0.2,_stage_${s.index}.yaml`, stage: s.index, report: prune(report) };
  });
}
