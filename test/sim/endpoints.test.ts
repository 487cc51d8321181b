// /v1/models, /health, /metrics, errors, option validation.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUserError } from "../../src/errors.ts";
import { get, post } from "../../src/sim/client.ts";
import { startSimulator, tokenizerDir, type Simulator } from "../../src/sim/index.ts";
import { parseSimFlags } from "../../src/cli/commands/sim.ts";
import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ model: "qwen-sim", ttftMs: 1, itlMs: 1, maxModelLen: 100 });
});
afterAll(() => sim.close());

const metric = (text: string, name: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
};

describe("info endpoints", () => {
  it("GET /v1/models lists the served model like vLLM", async () => {
    const r = await get(sim.url, "/v1/models");
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.object).toBe("list");
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ id: "qwen-sim", object: "model", owned_by: "hub-sim", root: "qwen-sim", parent: null, max_model_len: 100 });
    expect(Number.isInteger(body.data[0].created)).toBe(true);
  });

  it("GET /health is 200 with an empty body", async () => {
    const r = await get(sim.url, "/health");
    expect(r.status).toBe(200);
    expect(r.body).toBe("");
  });

  it("GET /metrics has vLLM names, labelled, and the counters move", async () => {
    const names = [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:prompt_tokens_total",
      "vllm:generation_tokens_total",
      "vllm:request_success_total",
      "vllm:time_to_first_token_seconds_count",
      "vllm:inter_token_latency_seconds_count",
      "vllm:time_per_output_token_seconds_count",
      "vllm:e2e_request_latency_seconds_count",
    ];
    const before = await get(sim.url, "/metrics");
    expect(before.contentType).toMatch(/^text\/plain/);
    for (const n of names) expect(before.body).toContain(`${n}{model_name="qwen-sim"`);
    expect(before.body).toContain('vllm:time_to_first_token_seconds_bucket{model_name="qwen-sim",le="+Inf"}');
    await post(sim.url, "/v1/completions", { prompt: [1, 2, 3], max_tokens: 5, stream: true });
    const after = (await get(sim.url, "/metrics")).body;
    expect(metric(after, "vllm:prompt_tokens_total") - metric(before.body, "vllm:prompt_tokens_total")).toBe(3);
    expect(metric(after, "vllm:generation_tokens_total") - metric(before.body, "vllm:generation_tokens_total")).toBe(5);
    expect(metric(after, "vllm:request_success_total") - metric(before.body, "vllm:request_success_total")).toBe(1);
    expect(metric(after, "vllm:time_to_first_token_seconds_count") - metric(before.body, "vllm:time_to_first_token_seconds_count")).toBe(1);
    expect(metric(after, "vllm:inter_token_latency_seconds_count") - metric(before.body, "vllm:inter_token_latency_seconds_count")).toBe(4);
    expect(metric(after, "vllm:num_requests_running")).toBe(0);
  });

  it("exports the tokenizer directory for Python harnesses", () => {
    const dir = tokenizerDir();
    expect(isAbsolute(dir)).toBe(true);
    expect(existsSync(join(dir, "tokenizer.json"))).toBe(true);
    expect(existsSync(join(dir, "tokenizer_config.json"))).toBe(true);
  });
});

describe("errors in OpenAI shape", () => {
  const expectError = (r: { status: number; body: string }, status: number): { message: string; type: string; code: number } => {
    expect(r.status).toBe(status);
    const body = JSON.parse(r.body);
    expect(body.error.code).toBe(status);
    expect(typeof body.error.message).toBe("string");
    expect(typeof body.error.type).toBe("string");
    return body.error;
  };

  it("unknown path → 404", async () => {
    expectError(await get(sim.url, "/v2/nothing"), 404);
    expectError(await post(sim.url, "/v1/embeddings", {}), 404);
  });

  it("bad JSON → 400", async () => {
    expect(expectError(await post(sim.url, "/v1/completions", "{not json"), 400).message).toMatch(/JSON/);
  });

  it("missing prompt / messages, bad max_tokens → 400", async () => {
    expectError(await post(sim.url, "/v1/completions", { max_tokens: 3 }), 400);
    expectError(await post(sim.url, "/v1/chat/completions", { messages: [] }), 400);
    expectError(await post(sim.url, "/v1/completions", { prompt: "x", max_tokens: -1 }), 400);
    expectError(await post(sim.url, "/v1/completions", { prompt: "x", max_tokens: 2, min_tokens: 3 }), 400);
  });

  it("another model name → 404 like vLLM", async () => {
    expect(expectError(await post(sim.url, "/v1/completions", { model: "gpt-4", prompt: "x" }), 404).message).toContain("gpt-4");
  });

  it("prompt + max_tokens over max_model_len → 400", async () => {
    const e = expectError(await post(sim.url, "/v1/completions", { prompt: Array.from({ length: 90 }, (_, i) => i), max_tokens: 20 }), 400);
    expect(e.message).toContain("maximum context length is 100");
  });

  it("GET on a completions path → 405", async () => {
    expectError(await get(sim.url, "/v1/completions"), 405);
  });

  it("errors are in the trace as failed", async () => {
    const failed = sim.trace().filter((t) => t.status === "failed");
    expect(failed.length).toBeGreaterThanOrEqual(6);
    expect(failed.every((t) => t.token_times_s.length === 0 && t.first_token_s === null && t.http_status >= 400)).toBe(true);
  });
});

describe("options", () => {
  it("a port in use is a UserError naming the port", async () => {
    const err = await startSimulator({ port: sim.port }).catch((e: unknown) => e);
    expect(isUserError(err)).toBe(true);
    expect((err as Error).message).toBe(`port ${sim.port} is in use`);
  });

  it("invalid library options are UserErrors", async () => {
    for (const bad of [{ ttftMs: -1 }, { failureRate: 1.5 }, { maxConcurrency: 0 }, { itlMs: Number.NaN }]) {
      const err = await startSimulator(bad).catch((e: unknown) => e);
      expect(isUserError(err), JSON.stringify(bad)).toBe(true);
    }
  });

  it("CLI flags: numbers parsed, bad values name the flag", () => {
    expect(parseSimFlags({ port: "0", ttftMs: "20", itlMs: "2.5", failureRate: "0.1", maxConcurrency: "4", seed: "7", trace: "t.jsonl" })).toEqual({
      port: 0,
      ttftMs: 20,
      itlMs: 2.5,
      failureRate: 0.1,
      maxConcurrency: 4,
      seed: 7,
      tracePath: "t.jsonl",
    });
    const cases: [Record<string, string>, RegExp][] = [
      [{ ttftMs: "-5" }, /--ttft-ms must be a number of ms >= 0/],
      [{ failureRate: "2" }, /--failure-rate must be a number from 0 to 1/],
      [{ port: "http" }, /--port must be an integer from 0 to 65535, got "http"/],
      [{ maxConcurrency: "1.5" }, /--max-concurrency must be an integer >= 1/],
      [{ itlJitterMs: "" }, /--itl-jitter-ms/],
    ];
    for (const [flags, message] of cases) {
      let err: unknown;
      try {
        parseSimFlags(flags);
      } catch (e) {
        err = e;
      }
      expect(isUserError(err)).toBe(true);
      expect((err as Error).message).toMatch(message);
    }
  });
});
