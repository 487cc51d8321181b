/**
 * A minimal HTTP client for the simulator's tests and timing bench: node:http (no web-stream
 * layers between the socket and the timestamp), SSE split on blank lines, and every event stamped
 * with performance.now() when its bytes arrived.
 */
import { request, type Agent } from "node:http";

export interface PostOptions {
  agent?: Agent;
  /** Parse each SSE event's JSON into `events` (tests) or only stamp it (bench). Default true. */
  parse?: boolean;
  /** Disconnect after this many events (to test client aborts). */
  abortAfterEvents?: number;
  timeoutMs?: number;
}

export interface PostResult {
  status: number;
  /** performance.now() when the request was written. */
  sentAt: number;
  /** Arrival of each SSE data event other than [DONE]. */
  eventTimes: number[];
  events: unknown[];
  sawDone: boolean;
  /** The whole body (non-SSE responses), or the SSE text when parse is true. */
  body: string;
  endAt: number;
  aborted: boolean;
}

export function post(baseUrl: string, path: string, payload: unknown, options: PostOptions = {}): Promise<PostResult> {
  const parse = options.parse ?? true;
  const data = typeof payload === "string" ? payload : JSON.stringify(payload);
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const result: PostResult = { status: 0, sentAt: 0, eventTimes: [], events: [], sawDone: false, body: "", endAt: 0, aborted: false };
    let buffer = "";
    const req = request(
      url,
      { method: "POST", agent: options.agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } },
      (res) => {
        result.status = res.statusCode ?? 0;
        const sse = (res.headers["content-type"] ?? "").startsWith("text/event-stream");
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          const now = performance.now();
          if (!sse || parse) result.body += chunk;
          if (!sse) return;
          buffer += chunk;
          let cut: number;
          while ((cut = buffer.indexOf("\n\n")) >= 0) {
            const event = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            if (!event.startsWith("data: ")) continue;
            const payloadText = event.slice(6);
            if (payloadText === "[DONE]") {
              result.sawDone = true;
              continue;
            }
            result.eventTimes.push(now);
            if (parse) result.events.push(JSON.parse(payloadText));
            if (options.abortAfterEvents !== undefined && result.eventTimes.length >= options.abortAfterEvents) {
              result.aborted = true;
              result.endAt = performance.now();
              req.destroy();
              resolve(result);
              return;
            }
          }
        });
        res.on("end", () => {
          result.endAt = performance.now();
          resolve(result);
        });
        res.on("error", (e) => (result.aborted ? resolve(result) : reject(e)));
      },
    );
    req.on("error", (e) => (result.aborted ? resolve(result) : reject(e)));
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error(`request timed out after ${options.timeoutMs} ms`)));
    }
    result.sentAt = performance.now();
    req.end(data);
  });
}

export async function get(baseUrl: string, path: string): Promise<{ status: number; body: string; contentType: string }> {
  const res = await fetch(new URL(path, baseUrl));
  return { status: res.status, body: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}
