/** hub sim: an OpenAI-compatible server with known latencies, the ground truth for harness checks. */
export { startSimulator, type Simulator } from "./server.ts";
export { DEFAULTS as SIM_DEFAULTS, NUMBER_SPECS as SIM_NUMBER_SPECS, type SimulatorOptions } from "./options.ts";
export { tokenizerDir, OUTPUT_WORDS, renderChatPrompt } from "./tokenizer.ts";
export type { TraceRecord } from "./trace.ts";
