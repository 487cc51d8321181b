/**
 * hub sim: an OpenAI-compatible server with known latencies, the ground truth harnesses are
 * checked against.
 *
 * Behaviour, in short (details in the files named):
 * - Output length is always exactly max_completion_tokens, else max_tokens, else defaultMaxTokens
 *   (16), whether or not ignore_eos is set; min_tokens is accepted (and so trivially honoured).
 *   finish_reason is "length". n must be 1; batched prompts are rejected.
 * - Each output token is one Qwen3 token (a space-prefixed common word), one per SSE chunk; the
 *   concatenated text re-tokenizes to exactly completion_tokens (tokenizer.ts). Chat streams carry
 *   role "assistant" in the first content chunk, not in a separate empty chunk, so chunks = tokens.
 * - Prompt tokens use the real Qwen3 tokenizer: completions count the prompt string (or the length
 *   of a token-id array); chat counts the ChatML rendering of the messages plus the generation
 *   prompt, which is what Qwen3's template gives for plain text messages (renderChatPrompt).
 *   prompt + output tokens above maxModelLen → HTTP 400, like vLLM.
 * - stream_options.include_usage adds a final chunk with empty choices and usage;
 *   stream_options.continuous_usage_stats puts running usage in every chunk (vLLM also needs
 *   include_usage for that; the simulator does not). Non-streaming responses always have usage.
 * - Timing: the first token is sent ttft after the request headers arrive, or ttft after leaving
 *   the maxConcurrency queue if it waited; then one token every itl, on absolute deadlines
 *   (server.ts, scheduler.ts). Jitter is normal, clipped at 0, seeded per request.
 * - failureRate answers that fraction of valid requests with HTTP 500 at once (seeded, in arrival
 *   order). Every request to a completions endpoint, ok or not, lands in the trace (trace.ts).
 */
export { startSimulator, type Simulator } from "./server.ts";
export { DEFAULTS as SIM_DEFAULTS, NUMBER_SPECS as SIM_NUMBER_SPECS, type SimulatorOptions } from "./options.ts";
export { tokenizerDir, loadTokenizer, countTokens, OUTPUT_WORDS, renderChatPrompt, type Tokenizer } from "./tokenizer.ts";
export type { TraceRecord } from "./trace.ts";
