/**
 * Ground truth: one record per request to a completions endpoint, as the server saw it. Times are
 * epoch seconds from performance.timeOrigin + performance.now() (sub-ms precision, monotonic within
 * a run). Token times are when each token's bytes were handed to the socket (streaming) or
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

/** performance.now() ms to epoch seconds. */
export function epochSeconds(perfMs: number): number {
  return (performance.timeOrigin + perfMs) / 1000;
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
