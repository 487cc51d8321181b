/**
 * Ground truth: one record per request to a completions endpoint, as the server saw it. Times are
 * epoch seconds: performance.now() (monotonic, sub-µs) plus a wall-clock offset calibrated once
 * (calibrateEpoch), so they compare with a harness's time.time() stamps. Token times are when each token's bytes were handed to the socket (streaming) or
 * generated (non-streaming; the response is sent at end_s).
 */
import { createWriteStream, type WriteStream } from "node:fs";

export interface TraceRecord {
  id: string;
  endpoint: "/v1/completions" | "/v1/chat/completions";
  stream: boolean;
  /** Request headers received; the TTFT clock starts here. */
  received_s: number;
  first_token_s: number | null;
  token_times_s: number[];
  /** Response finished, or the error answered, or the client gone. */
  end_s: number;
  /** null when the request was rejected before its prompt was counted. */
  prompt_tokens: number | null;
  completion_tokens: number;
  status: "ok" | "failed" | "aborted";
  /** Time waiting for a free slot under maxConcurrency. */
  queued_ms: number;
  http_status: number;
  error?: string;
}

let epochOffsetMs: number | undefined;

/**
 * Offset from performance.now() to the wall clock (Date.now, CLOCK_REALTIME: what Python's
 * time.time() reads), to a few µs. performance.timeOrigin is the same idea but is taken once at
 * process start and is ~1 ms off when that moment is preempted (seen on a loaded machine), which
 * would shift every trace time against the harness's own clock. So: wait for Date.now() to tick
 * to a new ms and read performance.now() around that edge. A loaded machine often preempts such a
 * loop, which widens the bracket, so retry until one edge is bracketed within 20 µs (usually the
 * first; at most 30 edges, ~30 ms) and keep the tightest.
 */
export function calibrateEpoch(): number {
  let best = Number.POSITIVE_INFINITY;
  let offset = performance.timeOrigin;
  for (let k = 0; k < 30 && best > 0.02; k++) {
    // Invariant: `before` was read before the last Date.now() that still returned w0, so the
    // edge lies after it.
    let before = performance.now();
    const w0 = Date.now();
    for (;;) {
      const p = performance.now();
      const w = Date.now();
      if (w !== w0) {
        const after = performance.now();
        if (w === w0 + 1 && after - before < best) {
          best = after - before;
          offset = w - (before + after) / 2;
        }
        break;
      }
      before = p;
    }
  }
  epochOffsetMs = offset;
  return offset;
}

/** performance.now() ms to epoch seconds. */
export function epochSeconds(perfMs: number): number {
  return ((epochOffsetMs ?? calibrateEpoch()) + perfMs) / 1000;
}

export class TraceLog {
  private readonly records: TraceRecord[] = [];
  private readonly file: WriteStream | undefined;
  private fileError: Error | undefined;

  constructor(path: string | undefined) {
    if (path !== undefined) {
      this.file = createWriteStream(path, { flags: "a" });
      this.file.on("error", (e) => {
        this.fileError ??= e;
      });
    }
  }

  /** Resolves once the file is open (or rejects, e.g. missing directory). */
  opened(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (this.fileError) return reject(this.fileError);
      if (!file.pending) return resolve();
      file.once("ready", () => resolve());
      file.once("error", reject);
    });
  }

  add(record: TraceRecord): void {
    this.records.push(record);
    this.file?.write(JSON.stringify(record) + "\n");
  }

  all(): TraceRecord[] {
    return this.records.map((r) => ({ ...r, token_times_s: [...r.token_times_s] }));
  }

  /** Flush and close the file. */
  close(): Promise<void> {
    const file = this.file;
    if (!file || file.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      file.end(() => (this.fileError ? reject(this.fileError) : resolve()));
    });
  }
}
