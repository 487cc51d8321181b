// Response shapes, token counts and usage, over real HTTP on loopback.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post } from "../../src/sim/client.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { countTokens, loadTokenizer, renderChatPrompt, type Tokenizer } from "../../src/sim/tokenizer.ts";

let sim: Simulator;
let tok: Tokenizer;

beforeAll(async () => {
  sim = await startSimulator({ model: "m1", ttftMs: 2, itlMs: 1, seed: 1 });
  tok = loadTokenizer();
});
afterAll(() => sim.close());

type Chunk = {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; text?: string; delta?: { role?: string; content?: string }; finish_reason: string | null; logprobs: null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
};

const PROMPT = "Benchmark harnesses disagree about what time to first token means.";

describe("streaming /v1/completions", () => {
  it("sends exactly max_tokens chunks, one token each, then [DONE]", async () => {
    const r = await post(sim.url, "/v1/completions", { model: "m1", prompt: PROMPT, max_tokens: 40, ignore_eos: true, stream: true });
    expect(r.status).toBe(200);
    expect(r.sawDone).toBe(true);
    const chunks = r.events as Chunk[];
    expect(chunks).toHaveLength(40);
    const ids = new Set(chunks.map((c) => c.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toMatch(/^cmpl-/);
    for (const [i, c] of chunks.entries()) {
      expect(c.object).toBe("text_completion");
      expect(c.model).toBe("m1");
      expect(c.choices).toHaveLength(1);
      expect(c.choices[0]!.logprobs).toBeNull();
      expect(c.choices[0]!.finish_reason).toBe(i === 39 ? "length" : null);
      expect(countTokens(tok, c.choices[0]!.text!)).toBe(1);
      expect(c.usage).toBeUndefined();
    }
    const text = chunks.map((c) => c.choices[0]!.text).join("");
    expect(countTokens(tok, text)).toBe(40);
  });

  it("include_usage adds a final chunk with empty choices and real prompt tokens", async () => {
    const r = await post(sim.url, "/v1/completions", { prompt: PROMPT, max_tokens: 5, stream: true, stream_options: { include_usage: true } });
    const chunks = r.events as Chunk[];
    expect(chunks).toHaveLength(6);
    const last = chunks[5]!;
    expect(last.choices).toEqual([]);
    const p = countTokens(tok, PROMPT);
    expect(last.usage).toEqual({ prompt_tokens: p, completion_tokens: 5, total_tokens: p + 5 });
    for (const c of chunks.slice(0, 5)) expect(c.usage).toBeUndefined();
  });

  it("continuous_usage_stats puts running usage in every chunk", async () => {
    const r = await post(sim.url, "/v1/completions", {
      prompt: PROMPT,
      max_tokens: 4,
      stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const chunks = r.events as Chunk[];
    expect(chunks.map((c) => c.usage?.completion_tokens)).toEqual([1, 2, 3, 4, 4]);
    const p = countTokens(tok, PROMPT);
    expect(chunks.every((c) => c.usage!.prompt_tokens === p && c.usage!.total_tokens === p + c.usage!.completion_tokens)).toBe(true);
  });

  it("counts a token-id prompt by its length and honours min_tokens", async () => {
    const r = await post(sim.url, "/v1/completions", { prompt: [1, 2, 3, 4, 5, 6, 7], max_tokens: 3, min_tokens: 3, stream: true, stream_options: { include_usage: true } });
    const chunks = r.events as Chunk[];
    expect(chunks.at(-1)!.usage).toEqual({ prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 });
  });

  it("uses the default of 16 tokens without max_tokens", async () => {
    const r = await post(sim.url, "/v1/completions", { prompt: "hi", stream: true });
    expect(r.events).toHaveLength(16);
  });
});

describe("streaming /v1/chat/completions", () => {
  it("puts the role in the first delta, one token per chunk, finish_reason on the last", async () => {
    const messages = [
      { role: "system", content: "You are terse." },
      { role: "user", content: [{ type: "text", text: PROMPT }] },
    ];
    const r = await post(sim.url, "/v1/chat/completions", { model: "m1", messages, max_completion_tokens: 12, stream: true, stream_options: { include_usage: true } });
    expect(r.status).toBe(200);
    const chunks = r.events as Chunk[];
    expect(chunks).toHaveLength(13);
    expect(chunks[0]!.id).toMatch(/^chatcmpl-/);
    expect(chunks[0]!.choices[0]!.delta!.role).toBe("assistant");
    expect(chunks[1]!.choices[0]!.delta!.role).toBeUndefined();
    expect(chunks.slice(0, 12).every((c) => c.object === "chat.completion.chunk")).toBe(true);
    expect(chunks[11]!.choices[0]!.finish_reason).toBe("length");
    const text = chunks.slice(0, 12).map((c) => c.choices[0]!.delta!.content).join("");
    expect(countTokens(tok, text)).toBe(12);
    // Prompt = ChatML rendering of the messages, counted with the Qwen3 tokenizer.
    const p = countTokens(tok, renderChatPrompt([{ role: "system", content: "You are terse." }, { role: "user", content: PROMPT }]));
    expect(chunks[12]!.usage).toEqual({ prompt_tokens: p, completion_tokens: 12, total_tokens: p + 12 });
  });
});

describe("non-streaming", () => {
  it("completions: one choice with all the text and usage", async () => {
    const r = await post(sim.url, "/v1/completions", { prompt: PROMPT, max_tokens: 25, ignore_eos: true });
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.object).toBe("text_completion");
    expect(body.choices[0].finish_reason).toBe("length");
    expect(countTokens(tok, body.choices[0].text)).toBe(25);
    expect(body.usage).toMatchObject({ prompt_tokens: countTokens(tok, PROMPT), completion_tokens: 25, total_tokens: countTokens(tok, PROMPT) + 25 });
  });

  it("chat: assistant message and usage", async () => {
    const r = await post(sim.url, "/v1/chat/completions", { messages: [{ role: "user", content: "hello" }], max_tokens: 9 });
    const body = JSON.parse(r.body);
    expect(body.object).toBe("chat.completion");
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.choices[0].message.role).toBe("assistant");
    expect(countTokens(tok, body.choices[0].message.content)).toBe(9);
    expect(body.usage.completion_tokens).toBe(9);
  });

  it("trace matches what the client saw", async () => {
    const before = sim.trace().length;
    const r = await post(sim.url, "/v1/completions", { prompt: PROMPT, max_tokens: 7, stream: true, stream_options: { include_usage: true } });
    const rec = sim.trace().slice(before).find((t) => t.id === (r.events[0] as Chunk).id)!;
    expect(rec).toBeDefined();
    expect(rec).toMatchObject({ endpoint: "/v1/completions", stream: true, status: "ok", completion_tokens: 7, prompt_tokens: countTokens(tok, PROMPT), http_status: 200 });
    expect(rec.token_times_s).toHaveLength(7);
    expect(rec.first_token_s).toBe(rec.token_times_s[0]);
    const times = [rec.received_s, ...rec.token_times_s, rec.end_s];
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
  });
});
