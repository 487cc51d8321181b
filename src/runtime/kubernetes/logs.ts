/**
 * A pod's log, followed live: each line to the worker's onLine and its stdout log file. The pod
 * log is one stream (stdout and stderr together), reported as "stdout".
 */
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { Writable, type Readable } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { LineSink } from "../lines.ts";
import { withTimeout } from "../docker/engine.ts";
import type { KubeClient } from "./client.ts";
import { CONTAINER } from "./job.ts";

export class PodLog {
  private readonly file: WriteStream;
  private readonly sink: LineSink;
  private abort: AbortController | undefined;
  private stopped = false;
  private closed = false;
  private following: Promise<void> | undefined;
  private lastData = 0;
  /** The last few lines, for a failure's message. */
  readonly tail: string[] = [];

  constructor(logFile: string, onLine?: (stream: "stdout" | "stderr", line: string) => void) {
    this.file = createWriteStream(logFile, { flags: "a" });
    this.sink = new LineSink(this.file, (line) => {
      this.tail.push(line);
      if (this.tail.length > 20) this.tail.shift();
      onLine?.("stdout", line);
    });
  }

  /**
   * Follows the pod's log until the container ends (the stream then ends cleanly). A stream that
   * breaks while the container still runs (API server restart, network) is picked up again from
   * the second it broke, which can repeat a few lines; `running` says whether the container is up.
   */
  start(client: KubeClient, pod: string, running: () => Promise<boolean>): void {
    if (this.following) return;
    this.following = (async () => {
      let since: string | undefined;
      while (!this.stopped) {
        const how = await this.followOnce(client, pod, since).catch(() => "error" as const);
        if (how === "end" || this.stopped || !(await running().catch(() => false))) return;
        since = new Date((this.lastData || Date.now()) - 1000).toISOString().replace(/\.\d+Z$/, "Z");
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
  }

  /** One log request; resolves when its stream ends, saying how. */
  private async followOnce(client: KubeClient, pod: string, sinceTime: string | undefined): Promise<"end" | "error"> {
    let how: "end" | "error" = "end";
    const target = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        // A request still in flight when the log was closed delivers into nothing.
        if (this.closed) return cb();
        this.lastData = Date.now();
        this.sink.write(chunk.toString("utf8"));
        cb();
      },
    });
    // client-node pipes the response into `target` without an error handler on the response:
    // an aborted or broken stream would be an uncaught 'error'. Handle it here.
    target.on("pipe", (src: Readable) =>
      src.on("error", () => {
        how = "error";
        target.end();
      }),
    );
    const done = once(target, "finish");
    const opts: k8s.LogOptions = { follow: true, ...(sinceTime ? { sinceTime } : {}) };
    this.abort = await withTimeout(new k8s.Log(client.kc).log(client.namespace, pod, CONTAINER, target, opts), 15_000, "the log request got no answer");
    if (this.stopped) this.abort.abort();
    await done;
    return how;
  }

  /**
   * Waits (at most `waitMs`) for the stream to end by itself (the container has exited), then
   * cuts it and closes the file.
   */
  async close(waitMs = 10_000): Promise<void> {
    if (this.following) await withTimeout(this.following, waitMs, "log stream still open").catch(() => {});
    this.stopped = true;
    this.abort?.abort();
    if (this.following) await withTimeout(this.following, 2000, "log stream still open").catch(() => {});
    this.closed = true;
    this.sink.end();
    this.file.end();
    if (!this.file.closed) await once(this.file, "close");
  }
}
