import type { Startup, StartupPhase } from "../src/metrics/schema.ts";

/**
 * A vLLM server log → the start-up phases llm-d-benchmark's nop harness reports. Checked against
 * real logs of vLLM 0.32.0 (test/fixtures/nop/); the phase table follows llm-d-benchmark's
 * (nop_functions.py categories), matched by substrings so that a reworded line loses one phase,
 * not the parse. Tolerant by design: a line that is not a vLLM log line is skipped, and a phase
 * whose start or end line is absent is reported as missing (null numbers), never as zero.
 *
 * vLLM's own line: `(<process> pid=<n>) <LEVEL> <MM-DD hh:mm:ss> [<file>:<line>] <message>`
 * (the process prefix is absent before vLLM 0.10), local time, whole seconds, no year. A line may
 * also start with an RFC 3339 timestamp (`docker logs --timestamps`, `kubectl logs --timestamps`);
 * when the log has those, they are the clock (sub-second, with a date).
 */

export interface LogLine {
  /** 1-based line number. */
  n: number;
  /** The line without ANSI colour codes or a trailing carriage return. */
  text: string;
  /** Seconds on the log's clock, when the line is timestamped. */
  t?: number;
  /** The timestamp as printed. */
  stamp?: string;
  process?: string;
  level?: string;
  message: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;
const ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s+/;
const VLLM = /^(?:(?<prefix>.*?)\((?<proc>[^()]*?)(?: pid=\d+)?\)\s+)?(?<level>DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+(?<date>\d{2})-(?<day>\d{2})\s+(?<time>\d{2}:\d{2}:\d{2})(?:[.,](?<ms>\d{1,6}))?\s+\[(?<where>[^\]]*)\]\s?(?<msg>.*)$/;

const DAY = 86_400;

/** Splits a log into lines and reads each one's timestamp; nothing is dropped. */
export function readLog(text: string): { lines: LogLine[]; clock: "iso" | "vllm" | null } {
  const raw = text.split("\n");
  if (raw.length > 0 && raw[raw.length - 1] === "") raw.pop();
  const lines: LogLine[] = raw.map((r, i) => {
    let rest = r.replace(ANSI, "").replace(/\r$/, "");
    const line: LogLine = { n: i + 1, text: rest, message: rest };
    const iso = ISO.exec(rest);
    let isoT: number | undefined;
    if (iso) {
      const ms = Date.parse(iso[1]!);
      if (!Number.isNaN(ms)) {
        isoT = ms / 1000;
        line.stamp = iso[1]!;
        // Date.parse keeps milliseconds only; docker prints nanoseconds.
        const frac = /\.(\d+)/.exec(iso[1]!)?.[1];
        if (frac && frac.length > 3) isoT = Math.floor(ms / 1000) + Number(`0.${frac}`);
      }
      rest = rest.slice(iso[0].length);
    }
    const m = VLLM.exec(rest);
    if (m?.groups) {
      const g = m.groups;
      line.level = g.level!;
      line.message = g.msg!;
      if (g.proc !== undefined) line.process = g.proc;
      if (isoT === undefined) {
        const [h, mi, s] = g.time!.split(":").map(Number);
        // Year 2000 (a leap year) holds every MM-DD; the year itself is unknown.
        line.t = Date.UTC(2000, Number(g.date) - 1, Number(g.day), h, mi, s) / 1000 + (g.ms ? Number(`0.${g.ms}`) : 0);
        line.stamp = `${g.date}-${g.day} ${g.time}${g.ms ? `.${g.ms}` : ""}`;
      }
    } else {
      line.message = rest;
    }
    if (isoT !== undefined) line.t = isoT;
    return line;
  });

  // One clock for the whole log: RFC 3339 prefixes when there are any, else vLLM's own.
  const clock = lines.some((l) => l.t !== undefined && /^\d{4}-/.test(l.stamp ?? "")) ? "iso" : lines.some((l) => l.t !== undefined) ? "vllm" : null;
  let prev: number | undefined;
  let shift = 0;
  for (const l of lines) {
    if (l.t === undefined) continue;
    if (clock === "iso" && !/^\d{4}-/.test(l.stamp ?? "")) {
      delete l.t;
      continue;
    }
    if (clock === "vllm") {
      // No year: a jump back of more than half a year is the turn of a year.
      if (prev !== undefined && l.t + shift < prev - 183 * DAY) shift += 366 * DAY;
      l.t += shift;
    }
    prev = l.t;
  }
  return { lines, clock };
}

interface PhaseSpec {
  name: string;
  title: string;
  start: RegExp;
  /** End patterns in order of preference: the first that matches after the start ends the phase. */
  end: readonly RegExp[];
  /** The duration the end line states, in seconds. */
  reported?: (line: LogLine) => number | undefined;
}

const num = (re: RegExp) => (l: LogLine) => {
  const m = re.exec(l.message);
  return m ? Number(m[1]) : undefined;
};

const LOADING_TOOK = /Model loading took .*? and ([\d.]+) seconds|Loading weights took ([\d.]+) seconds/;
const COMPILE_TOOK = /torch\.compile (?:and initial profiling\/warmup run together )?(?:takes|took) ([\d.]+) s in total/;

/**
 * llm-d-benchmark's nop categories (start pattern → end pattern), with the lines vLLM 0.32 prints
 * where they differ: its banner (`version 0.32.0`) instead of "vLLM API server version", "Starting
 * vLLM server on" for "Starting vLLM API server", "torch.compile took" for "takes". A phase starts
 * at the first line matching its start and ends at the first later line matching its preferred
 * end; the fallbacks (CPU builds log no "Model loading took" nor "torch.compile took") are named
 * in the phase's note.
 */
export const PHASES: readonly PhaseSpec[] = [
  { name: "platform_detection", title: "Detect platform", start: /No plugins for group|Checking if .* platform is available/, end: [/detected platform|No platform detected/i] },
  { name: "imports", title: "LLM imports", start: /detected platform/i, end: [/Available plugins for group/] },
  { name: "model_info", title: "Get model info", start: /vLLM API server version|\bversion \d+\.\d+/, end: [/Using max model len/] },
  { name: "worker_init", title: "Worker initialization", start: /Waiting for init message/, end: [/Starting to load model/] },
  {
    name: "model_loading",
    title: "Model loading",
    start: /Starting to load model/,
    end: [/Model loading took/, /Loading weights took/],
    reported: (l) => {
      const m = LOADING_TOOK.exec(l.message);
      return m ? Number(m[1] ?? m[2]) : undefined;
    },
  },
  { name: "torch_compile", title: "torch.compile", start: /Start compiling function|torch\/_dynamo/, end: [COMPILE_TOOK, /saved AOT compiled function/], reported: num(COMPILE_TOOK) },
  {
    name: "cuda_graph_capture",
    title: "CUDA graph capture",
    start: /torch\.compile (?:and initial profiling\/warmup run together )?(?:takes|took)|Capturing CUDA graph/,
    end: [/Graph capturing finished/, /init engine/],
    reported: num(/Graph capturing finished in ([\d.]+) secs/),
  },
  { name: "api_server_start", title: "API server start", start: /Starting vLLM API server|Starting vLLM server on/, end: [/Route: \/metrics/, /Application startup complete/] },
];

const sourceOf = (l: LogLine) => ({ line: l.n, text: l.text });
const round = (x: number) => Math.round(x * 1e6) / 1e6;

function phase(spec: PhaseSpec, lines: LogLine[], t0: number | undefined): StartupPhase {
  const start = lines.find((l) => spec.start.test(l.message));
  let end: LogLine | undefined;
  let fallback: RegExp | undefined;
  for (const [i, re] of spec.end.entries()) {
    end = start ? lines.find((l) => l.n > start.n && re.test(l.message)) : undefined;
    if (end) {
      if (i > 0) fallback = re;
      break;
    }
  }
  const base = { name: spec.name, title: spec.title };
  if (!start || !end) {
    const missing = !start ? `no line matching ${spec.start}` : `no line matching ${spec.end.join(" or ")} after line ${start.n}`;
    return { ...base, found: false, start_offset_s: null, duration_s: null, reported_s: null, source: start ? [sourceOf(start)] : [], note: `missing: ${missing}` };
  }
  const reported = spec.reported?.(end);
  const timed = start.t !== undefined && end.t !== undefined && t0 !== undefined;
  const notes = [
    ...(fallback ? [`ends at the first line matching ${fallback}: the log has no line matching ${spec.end[0]}`] : []),
    ...(timed ? [] : ["its lines carry no timestamp"]),
  ];
  return {
    ...base,
    found: true,
    start_offset_s: timed ? round(start.t! - t0!) : null,
    duration_s: timed ? round(end.t! - start.t!) : null,
    reported_s: reported ?? null,
    source: [sourceOf(start), sourceOf(end)],
    ...(notes.length > 0 ? { note: notes.join("; ") } : {}),
  };
}

/** Reads a vLLM server log's start-up: phases, model-loading figures, sleep/wake events. */
export function parseVllmLog(text: string, path: string | null): Omit<Startup, "ready"> {
  const { lines } = readLog(text);
  const timed = lines.filter((l) => l.t !== undefined);
  const first = timed[0];
  const t0 = first?.t;
  const notes: string[] = [];
  const vllmLines = lines.filter((l) => l.level !== undefined).length;
  if (vllmLines === 0) notes.push("no line of this log is a vLLM log line (LEVEL MM-DD hh:mm:ss [file:line] message): nothing could be read");

  const version =
    lines.map((l) => /vLLM API server version ([^\s,]+)|\bversion (\d+\.\d+\S*)|V1 LLM engine \(v([^)]+)\)/.exec(l.message)).find(Boolean)?.slice(1).find(Boolean) ?? null;
  const model =
    lines.map((l) => /Starting to load model (.+?)(?:\.\.\.)?$/.exec(l.message)?.[1]).find(Boolean) ??
    lines.map((l) => /non-default args:.*'model': '([^']+)'/.exec(l.message)?.[1]).find(Boolean) ??
    null;

  const phases = PHASES.map((p) => phase(p, lines, t0));

  const loading = lines.find((l) => /Model loading took/.test(l.message));
  const lm = loading ? /Model loading took ([\d.]+) ?Gi?B(?: memory)? and ([\d.]+) seconds/.exec(loading.message) : null;
  const model_loading = loading && lm ? { gib: Number(lm[1]), seconds: Number(lm[2]), source: sourceOf(loading) } : null;

  const sleep_wake: Startup["sleep_wake"] = [];
  for (const l of lines) {
    const m = /It took ([\d.]+) seconds to (fall asleep|wake up)/.exec(l.message);
    if (!m) continue;
    const type = m[2] === "fall asleep" ? "sleep" : "wake";
    const freed = type === "sleep" ? lines.slice(0, l.n - 1).reverse().find((x) => /Sleep mode freed/.test(x.message)) : undefined;
    const fm = freed ? /freed ([\d.]+) GiB memory, ([\d.]+) GiB memory is still in use/.exec(freed.message) : null;
    sleep_wake.push({
      type,
      seconds: Number(m[1]),
      offset_s: l.t !== undefined && t0 !== undefined ? round(l.t - t0) : null,
      freed_gib: fm ? Number(fm[1]) : null,
      in_use_gib: fm ? Number(fm[2]) : null,
      source: sourceOf(l),
    });
  }

  // uvicorn prints "Application startup complete." without a timestamp: the last timestamped line
  // before it (the route list) is when the server was up, to vLLM's one-second resolution.
  const ready = lines.find((l) => /Application startup complete/.test(l.message));
  const readyAt = ready?.t !== undefined ? ready : ready ? [...timed].reverse().find((l) => l.n < ready.n) : undefined;
  const total_s = readyAt?.t !== undefined && t0 !== undefined ? round(readyAt.t - t0) : null;
  if (!ready) notes.push("the log has no 'Application startup complete' line: the server had not finished starting when the log was read");
  else if (readyAt && readyAt !== ready) notes.push(`total_s ends at line ${readyAt.n}, the last timestamped line before 'Application startup complete' (line ${ready.n}, which has no timestamp)`);
  const missing = phases.filter((p) => !p.found).map((p) => p.name);
  if (missing.length > 0) notes.push(`phases missing from the log: ${missing.join(", ")}`);

  return {
    log: { path, lines: lines.length, timestamped_lines: timed.length, first_timestamp: first?.stamp ?? null },
    server: { engine: vllmLines > 0 ? "vllm" : null, version, model },
    total_s,
    phases,
    model_loading,
    sleep_wake,
    notes,
  };
}
