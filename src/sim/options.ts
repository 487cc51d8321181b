/**
 * Simulator options: defaults, and one table of numeric limits shared by the library (which names
 * the option) and the CLI (which names the flag), so both reject the same values.
 */
import { UserError } from "../errors.ts";

export interface SimulatorOptions {
  /** Interface to listen on. Default 127.0.0.1 (loopback). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Served model name. Default "hub-sim". */
  model?: string;
  /** Time to first token, from receipt (or from leaving the queue), in ms. Default 50. */
  ttftMs?: number;
  /** Gap between output tokens, in ms. Default 10. */
  itlMs?: number;
  /** Stddev of normal jitter added to each TTFT, clipped so TTFT >= 0. Default 0. */
  ttftJitterMs?: number;
  /** Stddev of normal jitter added to each inter-token gap, clipped so the gap >= 0. Default 0. */
  itlJitterMs?: number;
  /** Fraction (0..1) of valid requests answered with HTTP 500. Default 0. */
  failureRate?: number;
  /** Requests generating at once; later ones wait in a FIFO queue (counted in TTFT). Default unlimited. */
  maxConcurrency?: number;
  /** Seed for jitter and failures; same seed and arrival order give the same run. Default random. */
  seed?: number;
  /** Context length: prompt + output tokens above it get HTTP 400, like vLLM. Default 32768. */
  maxModelLen?: number;
  /** JSONL file the ground-truth trace is appended to. */
  tracePath?: string;
  /** Output tokens when a request sets neither max_tokens nor max_completion_tokens. Default 16. */
  defaultMaxTokens?: number;
  /**
   * Advanced: for the last preciseWaitMs before each token deadline, block in a precise sub-ms
   * sleep instead of trusting Node's ms-granular timers (which land up to ~1.7 ms off). Delays I/O
   * by at most that long. 0 = timers only. Default 1. See scheduler.ts and bench/README.md.
   */
  preciseWaitMs?: number;
  /** A request whose body has not fully arrived this long after its headers gets HTTP 408. Default 30000. */
  bodyTimeoutMs?: number;
}

export interface ResolvedOptions {
  host: string;
  port: number;
  model: string;
  ttftMs: number;
  itlMs: number;
  ttftJitterMs: number;
  itlJitterMs: number;
  failureRate: number;
  maxConcurrency: number;
  seed: number;
  maxModelLen: number;
  tracePath: string | undefined;
  defaultMaxTokens: number;
  preciseWaitMs: number;
  bodyTimeoutMs: number;
}

type NumericKey = { [K in keyof ResolvedOptions]: ResolvedOptions[K] extends number ? K : never }[keyof ResolvedOptions];

export interface NumberSpec {
  key: NumericKey;
  flag: string;
  min: number;
  max: number;
  integer: boolean;
  /** Human wording of the allowed range, used in error messages. */
  allowed: string;
}

const U32 = 2 ** 32 - 1;

export const NUMBER_SPECS: readonly NumberSpec[] = [
  { key: "port", flag: "--port", min: 0, max: 65535, integer: true, allowed: "an integer from 0 to 65535" },
  { key: "ttftMs", flag: "--ttft-ms", min: 0, max: 3_600_000, integer: false, allowed: "a number of ms >= 0" },
  { key: "itlMs", flag: "--itl-ms", min: 0, max: 3_600_000, integer: false, allowed: "a number of ms >= 0" },
  { key: "ttftJitterMs", flag: "--ttft-jitter-ms", min: 0, max: 3_600_000, integer: false, allowed: "a number of ms >= 0" },
  { key: "itlJitterMs", flag: "--itl-jitter-ms", min: 0, max: 3_600_000, integer: false, allowed: "a number of ms >= 0" },
  { key: "failureRate", flag: "--failure-rate", min: 0, max: 1, integer: false, allowed: "a number from 0 to 1" },
  { key: "maxConcurrency", flag: "--max-concurrency", min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, allowed: "an integer >= 1" },
  { key: "seed", flag: "--seed", min: 0, max: U32, integer: true, allowed: `an integer from 0 to ${U32}` },
  { key: "maxModelLen", flag: "--max-model-len", min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, allowed: "an integer >= 1" },
  { key: "defaultMaxTokens", flag: "--default-max-tokens", min: 1, max: Number.MAX_SAFE_INTEGER, integer: true, allowed: "an integer >= 1" },
  { key: "preciseWaitMs", flag: "--precise-wait-ms", min: 0, max: 5, integer: false, allowed: "a number of ms from 0 to 5" },
  { key: "bodyTimeoutMs", flag: "--body-timeout-ms", min: 1, max: 3_600_000, integer: false, allowed: "a number of ms >= 1" },
];

export const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  model: "hub-sim",
  ttftMs: 50,
  itlMs: 10,
  ttftJitterMs: 0,
  itlJitterMs: 0,
  failureRate: 0,
  maxConcurrency: Number.POSITIVE_INFINITY,
  maxModelLen: 32768,
  defaultMaxTokens: 16,
  preciseWaitMs: 1,
  bodyTimeoutMs: 30_000,
} as const;

function checkNumber(spec: NumberSpec, value: number, name: string): number {
  const ok = Number.isFinite(value) && value >= spec.min && value <= spec.max && (!spec.integer || Number.isInteger(value));
  if (!ok) throw new UserError(`${name} must be ${spec.allowed}, got ${String(value)}`);
  return value;
}

/** Parse a CLI flag's text; the error names the flag. */
export function parseNumberFlag(spec: NumberSpec, text: string): number {
  const trimmed = text.trim();
  const value = trimmed === "" ? Number.NaN : Number(trimmed);
  if (Number.isNaN(value)) throw new UserError(`${spec.flag} must be ${spec.allowed}, got "${text}"`);
  return checkNumber(spec, value, spec.flag);
}

/** Fill defaults and check ranges; the error names the option. */
export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    host: options.host ?? DEFAULTS.host,
    port: options.port ?? DEFAULTS.port,
    model: options.model ?? DEFAULTS.model,
    ttftMs: options.ttftMs ?? DEFAULTS.ttftMs,
    itlMs: options.itlMs ?? DEFAULTS.itlMs,
    ttftJitterMs: options.ttftJitterMs ?? DEFAULTS.ttftJitterMs,
    itlJitterMs: options.itlJitterMs ?? DEFAULTS.itlJitterMs,
    failureRate: options.failureRate ?? DEFAULTS.failureRate,
    maxConcurrency: options.maxConcurrency ?? DEFAULTS.maxConcurrency,
    seed: options.seed ?? Math.floor(Math.random() * U32),
    maxModelLen: options.maxModelLen ?? DEFAULTS.maxModelLen,
    tracePath: options.tracePath,
    defaultMaxTokens: options.defaultMaxTokens ?? DEFAULTS.defaultMaxTokens,
    preciseWaitMs: options.preciseWaitMs ?? DEFAULTS.preciseWaitMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs,
  };
  for (const spec of NUMBER_SPECS) {
    const value = resolved[spec.key];
    if (spec.key === "maxConcurrency" && value === Number.POSITIVE_INFINITY) continue;
    checkNumber(spec, value, `simulator option ${spec.key}`);
  }
  if (resolved.model.trim() === "") throw new UserError("simulator option model must be a non-empty name");
  return resolved;
}
