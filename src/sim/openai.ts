/**
 * OpenAI/vLLM wire format: request validation and response bodies. Chunks are assembled from
 * pre-escaped strings because they are built on the timing-critical path (one per token).
 */
import { OUTPUT_WORDS, renderChatPrompt, type ChatMessage } from "./tokenizer.ts";

export type Endpoint = "/v1/completions" | "/v1/chat/completions";

import { ApiError } from "./api-error.ts";

export { ApiError };

/** The prompt as text to tokenize, or an already-known token count (token-id prompts). */
export type Prompt = { text: string } | { tokens: number };

export interface GenRequest {
  endpoint: Endpoint;
  model: string | undefined;
  prompt: Prompt;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  /** null: not given, the server default applies. */
  maxTokens: number | null;
  minTokens: number;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function optionalInt(body: Json, key: string, min: number): number | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new ApiError(400, `${key} must be an integer >= ${min}, got ${JSON.stringify(v)}`, key);
  }
  return v;
}

function optionalBool(obj: Json, key: string): boolean {
  const v = obj[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ApiError(400, `${key} must be a boolean`, key);
  return v;
}

function isTokenIds(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === "number" && Number.isInteger(t) && t >= 0);
}

function completionPrompt(body: Json): Prompt {
  let p = body.prompt;
  // One-element batches are accepted; the simulator answers a single choice.
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === "string" || Array.isArray(p[0]))) p = p[0];
  if (typeof p === "string") return { text: p };
  if (isTokenIds(p)) return { tokens: p.length };
  if (Array.isArray(p) && p.length > 1 && p.every((x) => typeof x === "string" || Array.isArray(x))) {
    throw new ApiError(400, "hub sim answers one prompt per request; batched prompts are not supported", "prompt");
  }
  throw new ApiError(400, "prompt must be a string or an array of token ids", "prompt");
}

function messageText(content: unknown, i: number): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    // Content parts: only text counts as prompt tokens.
    let s = "";
    for (const part of content) if (isObject(part) && part.type === "text" && typeof part.text === "string") s += part.text;
    return s;
  }
  throw new ApiError(400, `messages[${i}].content must be a string or an array of content parts`, "messages");
}

function chatPrompt(body: Json): Prompt {
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) throw new ApiError(400, "messages must be a non-empty array", "messages");
  const messages: ChatMessage[] = msgs.map((m, i) => {
    if (!isObject(m) || typeof m.role !== "string") throw new ApiError(400, `messages[${i}] must be an object with a string role`, "messages");
    return { role: m.role, content: messageText(m.content, i) };
  });
  return { text: renderChatPrompt(messages) };
}

/** Validate a request body (already JSON-parsed). Throws ApiError(400) on a bad request. */
export function parseGenRequest(endpoint: Endpoint, body: unknown): GenRequest {
  if (!isObject(body)) throw new ApiError(400, "request body must be a JSON object");
  const model = body.model;
  if (model !== undefined && model !== null && typeof model !== "string") throw new ApiError(400, "model must be a string", "model");
  const n = optionalInt(body, "n", 1);
  if (n !== null && n !== 1) throw new ApiError(400, "hub sim supports n = 1 only", "n");
  const prompt = endpoint === "/v1/completions" ? completionPrompt(body) : chatPrompt(body);
  const stream = optionalBool(body, "stream");
  const so = body.stream_options;
  if (so !== undefined && so !== null && !isObject(so)) throw new ApiError(400, "stream_options must be an object", "stream_options");
  const maxCompletion = optionalInt(body, "max_completion_tokens", 1);
  const maxTokens = maxCompletion ?? optionalInt(body, "max_tokens", 1);
  const minTokens = optionalInt(body, "min_tokens", 0) ?? 0;
  if (maxTokens !== null && minTokens > maxTokens) {
    throw new ApiError(400, `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}`, "min_tokens");
  }
  return {
    endpoint,
    model: typeof model === "string" ? model : undefined,
    prompt,
    stream,
    includeUsage: so ? optionalBool(so, "include_usage") : false,
    continuousUsage: so ? optionalBool(so, "continuous_usage_stats") : false,
    maxTokens,
    minTokens,
  };
}

const ESCAPED_WORDS = OUTPUT_WORDS.map((w) => JSON.stringify(w));

const usageJson = (prompt: number, completion: number): string =>
  `{"prompt_tokens":${prompt},"total_tokens":${prompt + completion},"completion_tokens":${completion}}`;

/** Builds one request's response bodies. */
export class ResponseWriter {
  readonly id: string;
  private readonly chat: boolean;
  private readonly head: string;
  private readonly promptTokens: number;
  private readonly total: number;
  private readonly continuousUsage: boolean;

  constructor(req: GenRequest, id: string, model: string, created: number, promptTokens: number, total: number) {
    this.id = id;
    this.chat = req.endpoint === "/v1/chat/completions";
    const object = this.chat ? "chat.completion.chunk" : "text_completion";
    this.head = `data: {"id":${JSON.stringify(id)},"object":"${object}","created":${created},"model":${JSON.stringify(model)},"choices":[`;
    this.promptTokens = promptTokens;
    this.total = total;
    this.continuousUsage = req.continuousUsage;
  }

  /** SSE event for output token i (0-based); the last one carries finish_reason "length". */
  tokenEvent(i: number): string {
    const word = ESCAPED_WORDS[i % ESCAPED_WORDS.length]!;
    const finish = i === this.total - 1 ? '"length"' : "null";
    const choice = this.chat
      ? `{"index":0,"delta":{${i === 0 ? '"role":"assistant",' : ""}"content":${word}},"logprobs":null,"finish_reason":${finish},"stop_reason":null}]`
      : `{"index":0,"text":${word},"logprobs":null,"finish_reason":${finish},"stop_reason":null}]`;
    const usage = this.continuousUsage ? `,"usage":${usageJson(this.promptTokens, i + 1)}` : "";
    return `${this.head}${choice}${usage}}\n\n`;
  }

  /** Final usage-only event (stream_options.include_usage). */
  usageEvent(): string {
    return `${this.head}],"usage":${usageJson(this.promptTokens, this.total)}}\n\n`;
  }

  /** Complete non-streaming body. */
  fullBody(model: string, created: number, text: string): string {
    const usage = { prompt_tokens: this.promptTokens, total_tokens: this.promptTokens + this.total, completion_tokens: this.total, prompt_tokens_details: null };
    const choice = this.chat
      ? { index: 0, message: { role: "assistant", content: text, tool_calls: [] }, logprobs: null, finish_reason: "length", stop_reason: null }
      : { index: 0, text, logprobs: null, finish_reason: "length", stop_reason: null, prompt_logprobs: null };
    return JSON.stringify({ id: this.id, object: this.chat ? "chat.completion" : "text_completion", created, model, choices: [choice], usage });
  }
}

export const DONE_EVENT = "data: [DONE]\n\n";
