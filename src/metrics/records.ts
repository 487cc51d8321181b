/**
 * What a converter extracts from a harness's per-request output, in the harness's own clock
 * (epoch seconds). Everything optional is optional because some harness does not export it;
 * compute.ts recomputes every metric it can from what is present.
 */
export interface RequestRecord {
  status: "ok" | "failed" | "incomplete";
  /** When the request was sent. */
  start_s: number;
  /** When the response finished (last byte, or the error). */
  end_s?: number;
  /** Arrival of the first output token. */
  first_token_s?: number;
  /** Arrival of the last output token. */
  last_token_s?: number;
  /**
   * Arrival time of every output token (or streamed chunk), first included, when the harness
   * exports it. Gives the exact pooled ITL distribution; without it ITL is approximated.
   */
  token_times_s?: number[];
  input_tokens?: number;
  output_tokens?: number;
  error?: string;
}
