/**
 * The simulator's HTTP server: an OpenAI-compatible endpoint with known latencies.
 *
 * Life of a completion request:
 *   receipt (t0, the TTFT clock starts) → body read and validated → failure draw → prompt counted
 *   (worker thread) and length checked → headers sent → slot (maxConcurrency queue) → first token at
 *   t0 + ttft, or leaving-the-queue + ttft if it waited → a token every itl → end.
 * Deadlines are absolute, so a late timer never shifts later tokens.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { UserError } from "../errors.ts";
import { ApiError, DONE_EVENT, parseGenRequest, ResponseWriter, type Endpoint, type GenRequest } from "./openai.ts";
import { resolveOptions, type ResolvedOptions, type SimulatorOptions } from "./options.ts";
import { SimMetrics } from "./prometheus.ts";
import { deriveSeed, jittered, mulberry32, type Rng } from "./rng.ts";
import { DeadlineScheduler, type Task } from "./scheduler.ts";
import { Slots, type Waiter } from "./slots.ts";
import { TokenCounter, outputText } from "./tokenizer.ts";
import { calibrateEpoch, epochSeconds, TraceLog, type TraceRecord } from "./trace.ts";

export interface Simulator {
  /** http://HOST:PORT, no trailing slash. */
  url: string;
  port: number;
  /** Stop listening, abort requests in flight, flush the trace file. */
  close(): Promise<void>;
  /** Copy of the ground-truth trace so far. */
  trace(): TraceRecord[];
}

/** Larger bodies get 413: 16 MiB holds a prompt of about three million tokens. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Bodies above this are parsed and counted off the server's thread. */
const LARGE_BODY_BYTES = 256 * 1024;

/** One completion request in flight. */
interface Active {
  id: string;
  endpoint: Endpoint;
  stream: boolean;
  t0: number;
  res: ServerResponse;
  done: boolean;
  promptTokens: number | null;
  completion: number;
  tokenTimes: number[];
  queuedMs: number;
  waiter: Waiter | null;
  holdsSlot: boolean;
  task: Task | null;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const opts = resolveOptions(options);
  calibrateEpoch();
  const trace = new TraceLog(opts.tracePath);
  try {
    await trace.opened();
  } catch (e) {
    throw new UserError(`cannot write the trace file ${opts.tracePath}: ${(e as Error).message}`);
  }
  // Bind first (fails fast on a taken port), then load the tokenizer (~0.5 s).
  const counter = new TokenCounter();
  const sim = new SimServer(opts, trace, counter);
  try {
    await sim.listen();
    await counter.start();
    // The tokenizer's first encode is several hundred ms slower than the rest (cold code paths);
    // pay it here, not in the first request's TTFT.
    await counter.count("The quick brown fox jumps over the lazy dog. ".repeat(64));
  } catch (e) {
    await sim.close().catch(() => {});
    throw e;
  }
  return {
    url: `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${sim.port}`,
    port: sim.port,
    close: () => sim.close(),
    trace: () => trace.all(),
  };
}

class SimServer {
  port = 0;
  private readonly opts: ResolvedOptions;
  private readonly trace: TraceLog;
  private readonly counter: TokenCounter;
  private readonly server: Server;
  private readonly scheduler: DeadlineScheduler;
  private readonly slots: Slots;
  private readonly metrics: SimMetrics;
  private readonly failureRng: Rng;
  private readonly active = new Set<Active>();
  private readonly sockets = new Set<Socket>();
  private readonly startedS = Math.floor(Date.now() / 1000);
  private requestIndex = 0;
  private closing: Promise<void> | undefined;

  constructor(opts: ResolvedOptions, trace: TraceLog, counter: TokenCounter) {
    this.opts = opts;
    this.trace = trace;
    this.counter = counter;
    this.scheduler = new DeadlineScheduler({ preciseWaitMs: opts.preciseWaitMs });
    this.slots = new Slots(opts.maxConcurrency);
    this.metrics = new SimMetrics(opts.model);
    // Its own stream, so failure decisions do not depend on how much jitter was drawn.
    this.failureRng = mulberry32(deriveSeed(opts.seed, 0xffffffff));
    this.server = createServer({ noDelay: true, requestTimeout: 0, keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res));
    this.server.on("connection", (socket: Socket) => {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        if (e.code === "EADDRINUSE") reject(new UserError(`port ${port} is in use`));
        else if (e.code === "EACCES") reject(new UserError(`no permission to listen on port ${port}`));
        else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND") reject(new UserError(`cannot listen on host ${host}`));
        else reject(e);
      };
      this.server.once("error", onError);
      this.server.listen({ port, host, backlog: 1024 }, () => {
        this.server.off("error", onError);
        const addr = this.server.address();
        this.port = typeof addr === "object" && addr !== null ? addr.port : port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const a of [...this.active]) this.abort(a, "server closed");
      this.scheduler.clear();
      for (const s of this.sockets) s.destroy();
      await closed;
      await this.counter.close();
      await this.trace.close();
    })();
    return this.closing;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const path = (req.url ?? "/").split("?", 1)[0]!;
    const method = req.method ?? "GET";
    if (path === "/v1/completions" || path === "/v1/chat/completions") {
      if (method !== "POST") return sendError(res, new ApiError(405, "Method Not Allowed"));
      return this.generate(path, req, res, t0);
    }
    if (method !== "GET" && method !== "HEAD") {
      const known = path === "/health" || path === "/v1/models" || path === "/metrics";
      return sendError(res, new ApiError(known ? 405 : 404, known ? "Method Not Allowed" : "Not Found"));
    }
    if (path === "/health") {
      res.writeHead(200, { "content-length": 0 });
      return void res.end();
    }
    if (path === "/v1/models") return sendJson(res, 200, this.modelsBody());
    if (path === "/metrics") {
      this.metrics.running = this.slots.running;
      this.metrics.waiting = this.slots.waiting;
      const text = this.metrics.render();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text) });
      return void res.end(text);
    }
    sendError(res, new ApiError(404, "Not Found"));
  }

  private modelsBody(): string {
    const m = this.opts.model;
    return JSON.stringify({
      object: "list",
      data: [{ id: m, object: "model", created: this.startedS, owned_by: "hub-sim", root: m, parent: null, max_model_len: this.opts.maxModelLen }],
    });
  }

  private generate(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, t0: number): void {
    const index = this.requestIndex++;
    const a: Active = {
      id: `${endpoint === "/v1/completions" ? "cmpl" : "chatcmpl"}-${randomUUID().replaceAll("-", "")}`,
      endpoint,
      stream: false,
      t0,
      res,
      done: false,
      promptTokens: null,
      completion: 0,
      tokenTimes: [],
      queuedMs: 0,
      waiter: null,
      holdsSlot: false,
      task: null,
    };
    this.active.add(a);
    res.once("close", () => {
      if (!a.done) this.abort(a, "client disconnected");
    });

    // The body arrives as buffers, joined once; a client that stops sending mid-body gets 408.
    const chunks: Buffer[] = [];
    let bytes = 0;
    const bodyTimer = setTimeout(() => {
      this.fail(a, new ApiError(408, `request body not received within ${this.opts.bodyTimeoutMs / 1000} s`));
      req.destroy();
    }, this.opts.bodyTimeoutMs);
    bodyTimer.unref();
    res.once("close", () => clearTimeout(bodyTimer));
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        clearTimeout(bodyTimer);
        req.removeAllListeners("data");
        chunks.length = 0;
        req.resume(); // discard the rest
        this.fail(a, new ApiError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      clearTimeout(bodyTimer);
      if (a.done) return;
      const body = Buffer.concat(chunks);
      chunks.length = 0;
      if (body.length > LARGE_BODY_BYTES) {
        // Parsing megabytes of JSON here would stall every other stream's tokens: the bulk lane does it.
        this.counter.parseAndCount(endpoint, body).then(
          ({ request, count }) => this.received(a, request, index, count),
          (e: unknown) => this.fail(a, e instanceof ApiError ? e : new ApiError(500, `hub sim: tokenizer failed: ${String(e)}`)),
        );
        return;
      }
      let parsed: GenRequest;
      try {
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch (e) {
          throw new ApiError(400, `Invalid JSON body: ${(e as Error).message}`);
        }
        parsed = parseGenRequest(endpoint, json);
      } catch (e) {
        return this.fail(a, e);
      }
      this.received(a, parsed, index);
    });
  }

  /** Parsed: check the model, draw an injected failure, then count the prompt (unless known). */
  private received(a: Active, parsed: GenRequest, index: number, promptTokens?: number): void {
    if (a.done) return;
    if (parsed.model !== undefined && parsed.model !== this.opts.model) {
      return this.fail(a, new ApiError(404, `The model \`${parsed.model}\` does not exist.`, "model"));
    }
    a.stream = parsed.stream;
    if (this.opts.failureRate > 0 && this.failureRng() < this.opts.failureRate) {
      return this.fail(a, new ApiError(500, "hub sim: injected failure (failure rate)"));
    }
    const prompt = parsed.prompt;
    if (promptTokens !== undefined) return this.prepared(a, parsed, promptTokens, index);
    if ("tokens" in prompt) return this.prepared(a, parsed, prompt.tokens, index);
    this.counter.count(prompt.text).then(
      (n) => this.prepared(a, parsed, n, index),
      (e: unknown) => this.fail(a, new ApiError(500, `hub sim: tokenizer failed: ${String(e)}`)),
    );
  }

  /** Prompt counted: check the context length, send headers, then wait for a slot. */
  private prepared(a: Active, req: GenRequest, promptTokens: number, index: number): void {
    if (a.done) return;
    a.promptTokens = promptTokens;
    const maxLen = this.opts.maxModelLen;
    const total = req.maxTokens ?? Math.min(this.opts.defaultMaxTokens, maxLen - promptTokens);
    if (promptTokens + total > maxLen || total < 1) {
      return this.fail(
        a,
        new ApiError(
          400,
          `This model's maximum context length is ${maxLen} tokens. However, you requested ${promptTokens + Math.max(total, 1)} tokens ` +
            `(${promptTokens} in the messages, ${Math.max(total, 1)} in the completion). Please reduce the length of the messages or completion.`,
        ),
      );
    }
    if (req.stream) {
      a.res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
      a.res.flushHeaders();
    }
    const enqueued = performance.now();
    let waited = false;
    a.waiter = this.slots.acquire(() => {
      a.waiter = null;
      a.holdsSlot = true;
      // Queued: the TTFT clock restarts when the slot frees, on top of the wait (like vLLM's
      // scheduler). Not queued: it runs from receipt, absorbing body read and tokenizing.
      const now = performance.now();
      a.queuedMs = waited ? now - enqueued : 0;
      this.start(a, req, promptTokens, total, waited ? now : a.t0, index);
    });
    waited = a.waiter !== null;
  }

  private start(a: Active, req: GenRequest, promptTokens: number, total: number, clockStart: number, index: number): void {
    if (a.done) return;
    const rng = mulberry32(deriveSeed(this.opts.seed, index));
    const { itlMs, itlJitterMs } = this.opts;
    const created = Math.floor(Date.now() / 1000);
    const writer = new ResponseWriter(req, a.id, this.opts.model, created, promptTokens, total);
    const times = a.tokenTimes;
    let next = clockStart + jittered(rng, this.opts.ttftMs, this.opts.ttftJitterMs);
    // If preparing the request already overran the first deadline, start from now: bursting to
    // catch up would be a schedule no real server follows.
    next = Math.max(next, performance.now());

    const run = (): number | null => {
      const now = performance.now();
      let out = "";
      while (a.completion < total && next <= now) {
        if (req.stream) out += writer.tokenEvent(a.completion);
        times.push(now);
        a.completion++;
        next += jittered(rng, itlMs, itlJitterMs);
      }
      if (a.completion < total) {
        if (out !== "") a.res.write(out);
        return next;
      }
      a.task = null;
      if (req.stream) {
        if (req.includeUsage) out += writer.usageEvent();
        a.res.end(out + DONE_EVENT);
      } else {
        sendJson(a.res, 200, writer.fullBody(this.opts.model, created, outputText(total)));
      }
      this.finish(a, "ok", 200);
      return null;
    };
    a.task = this.scheduler.schedule(next, run);
  }

  private finish(a: Active, status: TraceRecord["status"], httpStatus: number, error?: string): void {
    if (a.done) return;
    a.done = true;
    this.active.delete(a);
    if (a.task) this.scheduler.cancel(a.task);
    a.task = null;
    if (a.waiter) this.slots.cancel(a.waiter);
    a.waiter = null;
    if (a.holdsSlot) this.slots.release();
    a.holdsSlot = false;

    const end = performance.now();
    const times = a.tokenTimes;
    const m = this.metrics;
    if (status === "ok") m.success++;
    else if (status === "aborted") m.aborted++;
    else m.failures++;
    if (a.promptTokens !== null && (status === "ok" || times.length > 0)) m.promptTokens += a.promptTokens;
    m.generationTokens += times.length;
    if (times.length > 0) m.ttft.observe((times[0]! - a.t0) / 1000);
    for (let i = 1; i < times.length; i++) m.itl.observe((times[i]! - times[i - 1]!) / 1000);
    if (status === "ok") {
      m.e2e.observe((end - a.t0) / 1000);
      m.queue.observe(a.queuedMs / 1000);
    }

    const record: TraceRecord = {
      id: a.id,
      endpoint: a.endpoint,
      stream: a.stream,
      received_s: epochSeconds(a.t0),
      first_token_s: times.length > 0 ? epochSeconds(times[0]!) : null,
      token_times_s: times.map(epochSeconds),
      end_s: epochSeconds(end),
      prompt_tokens: a.promptTokens,
      completion_tokens: times.length,
      status,
      queued_ms: a.queuedMs,
      http_status: httpStatus,
    };
    if (error !== undefined) record.error = error;
    this.trace.add(record);
  }

  /** Answer an error (if nothing was sent yet) and record the request as failed. */
  private fail(a: Active, e: unknown): void {
    if (a.done) return;
    const err = e instanceof ApiError ? e : new ApiError(500, `hub sim: ${String(e)}`);
    if (!a.res.headersSent) sendError(a.res, err);
    else a.res.destroy(); // mid-stream: a broken stream is what a client would see
    this.finish(a, "failed", err.status, err.message);
  }

  private abort(a: Active, why: string): void {
    if (a.done) return;
    // 499: nginx's "client closed request", for requests that never got a status line.
    this.finish(a, "aborted", a.res.headersSent ? a.res.statusCode : 499, why);
    if (!a.res.writableEnded) a.res.destroy();
  }
}

function sendJson(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, e.body());
}
