/** Worker thread for TokenCounter (tokenizer.ts): loads Qwen3 once, then counts tokens on request. */
import { parentPort } from "node:worker_threads";
import { countTokens, loadTokenizer, verifyOutputWords } from "./tokenizer.ts";

const port = parentPort;
if (!port) throw new Error("tokenizer-worker.ts must run as a worker thread");

try {
  const tokenizer = loadTokenizer();
  verifyOutputWords(tokenizer);
  port.on("message", (msg: { id: number; text: string }) => {
    try {
      port.postMessage({ id: msg.id, count: countTokens(tokenizer, msg.text) });
    } catch (e) {
      port.postMessage({ id: msg.id, error: String(e) });
    }
  });
  port.postMessage({ ready: true });
} catch (e) {
  port.postMessage({ fatal: String(e) });
}
