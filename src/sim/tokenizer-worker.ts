/**
 * Worker thread for TokenCounter (tokenizer.ts): loads Qwen3 once, then counts tokens on request,
 * or parses a whole large request body and counts its prompt, so neither runs on the server's thread.
 */
import { parentPort } from "node:worker_threads";
import { ApiError, parseGenRequest, type Endpoint } from "./openai.ts";
import { countTokens, loadTokenizer, verifyOutputWords } from "./tokenizer.ts";

const port = parentPort;
if (!port) throw new Error("tokenizer-worker.ts must run as a worker thread");

type Message = { id: number; text: string } | { id: number; endpoint: Endpoint; body: Uint8Array };

try {
  const tokenizer = loadTokenizer();
  verifyOutputWords(tokenizer);
  const decoder = new TextDecoder();
  port.on("message", (msg: Message) => {
    try {
      if ("text" in msg) return port.postMessage({ id: msg.id, count: countTokens(tokenizer, msg.text) });
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(msg.body));
      } catch (e) {
        throw new ApiError(400, `Invalid JSON body: ${(e as Error).message}`);
      }
      const request = parseGenRequest(msg.endpoint, json);
      const count = "tokens" in request.prompt ? request.prompt.tokens : countTokens(tokenizer, request.prompt.text);
      port.postMessage({ id: msg.id, count, request: { ...request, prompt: { tokens: count } } });
    } catch (e) {
      if (e instanceof ApiError) port.postMessage({ id: msg.id, apiError: { status: e.status, message: e.message, param: e.param } });
      else port.postMessage({ id: msg.id, error: String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ fatal: String(e) });
}
