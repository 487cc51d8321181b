/**
 * Build progress from the Docker engine's /build stream, BuildKit's or the classic builder's,
 * as plain lines, plus what is needed to report a failure: the failing step and its last output.
 *
 * BuildKit sends its status as `{"id":"moby.buildkit.trace","aux":"<base64 protobuf>"}` lines
 * (moby.buildkit.v1.StatusResponse). The few fields used here are decoded by hand below, which
 * keeps hub off dockerode's internal proto files.
 */

interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started?: number;
  completed?: number;
  error: string;
}
interface VertexLog {
  vertex: string;
  msg: Buffer;
}
interface StatusResponse {
  vertexes: Vertex[];
  logs: VertexLog[];
}

// --- minimal protobuf wire-format reader ---------------------------------------------------

type Field = { no: number; wire: number; value: bigint | Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error("truncated varint");
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) yield { no, wire, value: varint() };
    else if (wire === 2) {
      const len = Number(varint());
      const value = buf.subarray(pos, pos + len);
      pos += len;
      yield { no, wire, value };
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
}

const str = (v: bigint | Buffer) => (Buffer.isBuffer(v) ? v.toString("utf8") : "");

function timestamp(buf: Buffer): number {
  let seconds = 0;
  let nanos = 0;
  for (const f of fields(buf)) {
    if (f.no === 1 && typeof f.value === "bigint") seconds = Number(f.value);
    if (f.no === 2 && typeof f.value === "bigint") nanos = Number(f.value);
  }
  return seconds * 1000 + nanos / 1e6;
}

export function decodeStatus(buf: Buffer): StatusResponse {
  const out: StatusResponse = { vertexes: [], logs: [] };
  for (const f of fields(buf)) {
    if (!Buffer.isBuffer(f.value)) continue;
    if (f.no === 1) {
      const v: Vertex = { digest: "", name: "", cached: false, error: "" };
      for (const g of fields(f.value)) {
        if (g.no === 1) v.digest = str(g.value);
        else if (g.no === 3) v.name = str(g.value);
        else if (g.no === 4) v.cached = g.value === 1n;
        else if (g.no === 5 && Buffer.isBuffer(g.value)) v.started = timestamp(g.value);
        else if (g.no === 6 && Buffer.isBuffer(g.value)) v.completed = timestamp(g.value);
        else if (g.no === 7) v.error = str(g.value);
      }
      out.vertexes.push(v);
    } else if (f.no === 3) {
      const l: VertexLog = { vertex: "", msg: Buffer.alloc(0) };
      for (const g of fields(f.value)) {
        if (g.no === 1) l.vertex = str(g.value);
        else if (g.no === 4 && Buffer.isBuffer(g.value)) l.msg = g.value;
      }
      out.logs.push(l);
    }
  }
  return out;
}

// --- progress tracking ---------------------------------------------------------------------

const KEEP_LINES = 40;

export interface BuildFailure {
  /** The step that failed, e.g. `[3/4] RUN pip install ...`, when the builder said. */
  step?: string;
  message: string;
  /** The last lines the failing step printed. */
  output: string[];
}

/**
 * Feeds on the raw /build response, calls onLine with readable progress, and remembers the
 * built image id and the first failure.
 */
export class BuildProgress {
  imageId: string | undefined;
  failure: BuildFailure | undefined;
  private readonly onLine: (line: string) => void;
  private rest = "";
  private readonly vertexes = new Map<string, Vertex & { announced: boolean; done: boolean }>();
  private readonly output = new Map<string, { lines: string[]; partial: string }>();
  /** Classic builder: the current step and its output. */
  private classicStep: string | undefined;
  private readonly classicOutput: string[] = [];

  private lastLineAt = Date.now();
  private heartbeatAt = 0;

  constructor(onLine: (line: string) => void) {
    this.onLine = (line) => {
      this.lastLineAt = Date.now();
      onLine(line);
    };
  }

  /**
   * A line for a step that has printed nothing for quietMs (pip installing torch, layers being
   * exported), at most once per quietMs, so a long silent step does not look hung.
   */
  heartbeat(quietMs: number, now = Date.now()): string | undefined {
    if (now - this.lastLineAt < quietMs || now - this.heartbeatAt < quietMs) return undefined;
    let step: (Vertex & { announced: boolean; done: boolean }) | undefined;
    for (const v of this.vertexes.values()) if (v.announced && !v.done && !v.error && v.started !== undefined) step = v;
    if (!step) return undefined;
    this.heartbeatAt = now;
    const name = step.name.replace(/\s+/g, " ");
    return `... still running after ${Math.round((now - step.started!) / 1000)} s: ${name.length > 100 ? `${name.slice(0, 97)}...` : name}`;
  }

  write(chunk: Buffer | string): void {
    const lines = (this.rest + chunk.toString()).split("\n");
    this.rest = lines.pop() ?? "";
    for (const line of lines) this.handle(line);
  }

  end(): void {
    if (this.rest.trim()) this.handle(this.rest);
    this.rest = "";
  }

  private handle(line: string): void {
    if (!line.trim()) return;
    let msg: { id?: string; aux?: unknown; stream?: string; error?: string; errorDetail?: { message?: string }; status?: string; progress?: string };
    try {
      msg = JSON.parse(line);
    } catch {
      this.onLine(line);
      return;
    }
    if (msg.id === "moby.buildkit.trace" && typeof msg.aux === "string") {
      this.buildkit(decodeStatus(Buffer.from(msg.aux, "base64")));
      return;
    }
    if (msg.id === "moby.image.id" && msg.aux && typeof msg.aux === "object") {
      this.imageId = (msg.aux as { ID?: string }).ID;
      return;
    }
    if (msg.aux && typeof msg.aux === "object" && "ID" in msg.aux) {
      this.imageId = (msg.aux as { ID?: string }).ID;
      return;
    }
    if (msg.error || msg.errorDetail) {
      const message = msg.errorDetail?.message ?? msg.error ?? "build failed";
      if (!this.failure) {
        // The classic builder reports the failing RUN only here; BuildKit already named it.
        this.failure = this.classicStep ? { step: this.classicStep, message, output: this.classicOutput.slice(-KEEP_LINES) } : { message, output: [] };
      } else if (!this.failure.message) this.failure.message = message;
      return;
    }
    if (typeof msg.stream === "string") {
      for (const l of msg.stream.replace(/\n$/, "").split("\n")) {
        if (!l.trim()) continue;
        if (/^Step \d+\/\d+ : /.test(l)) {
          this.classicStep = l;
          this.classicOutput.length = 0;
        } else this.classicOutput.push(l);
        this.onLine(l);
      }
      return;
    }
    if (msg.status) this.onLine(`${msg.status}${msg.progress ? ` ${msg.progress}` : ""}`);
  }

  private buildkit(status: StatusResponse): void {
    for (const v of status.vertexes) {
      const known = this.vertexes.get(v.digest) ?? { ...v, announced: false, done: false };
      if (v.name) known.name = v.name;
      if (v.started !== undefined) known.started = v.started;
      if (v.completed !== undefined) known.completed = v.completed;
      if (v.cached) known.cached = true;
      if (v.error) known.error = v.error;
      this.vertexes.set(v.digest, known);
      if (!known.announced && (known.started !== undefined || known.cached)) {
        known.announced = true;
        this.onLine(`${known.cached ? "CACHED " : ""}${known.name}`);
      }
      if (known.error && !this.failure) {
        this.flushPartial(v.digest);
        this.failure = { step: known.name, message: known.error, output: [...(this.output.get(v.digest)?.lines ?? [])] };
        this.onLine(`ERROR ${shortStep(known.name)}: ${shortMessage(known.error)}`);
      } else if (!known.done && known.completed !== undefined && !known.error) {
        known.done = true;
        this.flushPartial(v.digest);
        const took = known.started !== undefined ? (known.completed - known.started) / 1000 : 0;
        if (!known.cached && took >= 1) this.onLine(`done in ${took.toFixed(1)} s: ${known.name}`);
      }
    }
    for (const l of status.logs) {
      const buf = this.output.get(l.vertex) ?? { lines: [], partial: "" };
      this.output.set(l.vertex, buf);
      const parts = (buf.partial + l.msg.toString("utf8")).split(/\r?\n|\r/);
      buf.partial = parts.pop() ?? "";
      for (const p of parts) this.logLine(buf, p);
    }
  }

  private logLine(buf: { lines: string[] }, line: string): void {
    if (!line.trim()) return;
    buf.lines.push(line);
    if (buf.lines.length > KEEP_LINES) buf.lines.shift();
    this.onLine(`  ${line}`);
  }

  private flushPartial(digest: string): void {
    const buf = this.output.get(digest);
    if (buf?.partial) {
      this.logLine(buf, buf.partial);
      buf.partial = "";
    }
  }
}

/** A long step (a RUN with a script) cut to its start. */
const shortStep = (step: string) => {
  const flat = step.replace(/\s+/g, " ");
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
};

/** BuildKit repeats the whole command in its error; the exit code is what is new. */
const shortMessage = (message: string) =>
  message.replace(/^(?:executor failed running \[[\s\S]*\]|process "[\s\S]*" did not complete successfully): (exit code: \d+)$/, "$1");

/** The failure as the user sees it: which step, why, and what it printed last. */
export function describeFailure(f: BuildFailure): string {
  const lines = [f.step ? `step ${shortStep(f.step)} failed: ${shortMessage(f.message)}` : shortMessage(f.message)];
  if (f.output.length) lines.push("its last output:", ...f.output.slice(-25).map((l) => `  ${l}`));
  return lines.join("\n");
}
