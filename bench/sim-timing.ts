/**
 * How precisely does `hub sim` keep its configured latencies under concurrent streaming load?
 *
 *   node bench/sim-timing.ts [--streams 64] [--requests 3] [--ttft-ms 50] [--itl-ms 10] [--tokens 128] [--precise-wait-ms 1] [--lockstep]
 *
 * The simulator runs in a child process (this file with --serve), so the client load does not share
 * its event loop. Each of --streams clients sends --requests streaming requests back to back over a
 * keep-alive connection. Per request the client measures TTFT error (first event − send − ttft) and
 * every inter-token gap error (gap − itl); the server's own trace gives the same figures at the
 * sending side. Reports p50/p99/max of the absolute errors (ms), using src/metrics/stats.ts.
 * Bounded: one warm-up request per stream, then streams × requests requests, and a hard time limit.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { summarize } from "../src/metrics/stats.ts";
import { post } from "../src/sim/client.ts";
import { startSimulator } from "../src/sim/index.ts";
import type { TraceRecord } from "../src/sim/trace.ts";

const { values: args } = parseArgs({
  options: {
    streams: { type: "string", default: "64" },
    requests: { type: "string", default: "3" },
    "ttft-ms": { type: "string", default: "50" },
    "itl-ms": { type: "string", default: "10" },
    tokens: { type: "string", default: "128" },
    "precise-wait-ms": { type: "string", default: "1" },
    lockstep: { type: "boolean", default: false },
    serve: { type: "boolean", default: false },
    probe: { type: "boolean", default: false },
    trace: { type: "string" },
  },
});

const num = (name: keyof typeof args): number => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0`);
  return v;
};

const TIME_LIMIT_MS = 180_000;

if (args.serve) await serve();
else if (args.probe) await probe();
else await bench();

/**
 * Child: a process doing nothing but 2 ms timers, run alongside the bench. Its lateness is what
 * the machine itself (other load, scheduling) does to any process right now: the floor under the
 * simulator's figures.
 */
async function probe(): Promise<void> {
  const late: number[] = [];
  let expected = performance.now() + 2;
  const timer = setInterval(() => {
    const now = performance.now();
    late.push(Math.max(0, now - expected));
    expected = now + 2;
  }, 2);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  clearInterval(timer);
  const s = summarize(late);
  process.stdout.write(JSON.stringify({ p50: s.p50, p99: s.p99, max: s.max, stalls: late.filter((x) => x > 5).length }) + "\n");
}

/** Child: run the simulator until stdin closes, then report its CPU time. */
async function serve(): Promise<void> {
  const sim = await startSimulator({ ttftMs: num("ttft-ms"), itlMs: num("itl-ms"), preciseWaitMs: num("precise-wait-ms"), tracePath: args.trace, seed: 1 });
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  process.stdout.write(JSON.stringify({ url: sim.url }) + "\n");
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once("end", resolve));
  const cpu = process.cpuUsage(cpu0);
  await sim.close();
  process.stdout.write(JSON.stringify({ cpuFraction: (cpu.user + cpu.system) / 1000 / (performance.now() - wall0) }) + "\n");
}

async function bench(): Promise<void> {
  const streams = num("streams");
  const requests = num("requests");
  const ttft = num("ttft-ms");
  const itl = num("itl-ms");
  const tokens = num("tokens");
  const dir = mkdtempSync(join(tmpdir(), "hub-sim-bench-"));
  const tracePath = join(dir, "trace.jsonl");
  const child = spawn(
    process.execPath,
    // execArgv passes e.g. --cpu-prof through to the server.
    [...process.execArgv, import.meta.filename, "--serve", "--ttft-ms", String(ttft), "--itl-ms", String(itl), "--precise-wait-ms", String(args["precise-wait-ms"]), "--trace", tracePath],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const killer = setTimeout(() => {
    console.error(`bench: over ${TIME_LIMIT_MS / 1000} s, giving up`);
    child.kill("SIGKILL");
    prober.kill("SIGKILL");
    process.exit(1);
  }, TIME_LIMIT_MS);
  const prober = spawn(process.execPath, [import.meta.filename, "--probe"], { stdio: ["pipe", "pipe", "inherit"] });
  const probeLines = createInterface({ input: prober.stdout! })[Symbol.asyncIterator]();
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { url } = JSON.parse(String(first.value)) as { url: string };

  const agent = new Agent({ keepAlive: true, maxSockets: streams });
  const body = { model: "hub-sim", prompt: "Measure me.", max_tokens: tokens, ignore_eos: true, stream: true };
  const ttftErr: number[] = [];
  const gapErr: number[] = [];
  let bad = 0;
  const stream = async (_: unknown, k: number): Promise<void> => {
    await post(url, "/v1/completions", { ...body, max_tokens: 8 }, { agent, parse: false }); // warm-up, not measured
    // Spread the streams' phases over one ITL (as varied prompt arrival would); --lockstep sends
    // all requests in the same instant, so every token of every stream falls due together.
    if (!args.lockstep) await new Promise((r) => setTimeout(r, (k / streams) * itl));
    for (let r = 0; r < requests; r++) {
      const res = await post(url, "/v1/completions", body, { agent, parse: false, timeoutMs: 60_000 });
      if (res.status !== 200 || res.eventTimes.length !== tokens || !res.sawDone) {
        bad++;
        continue;
      }
      const t = res.eventTimes;
      ttftErr.push(Math.abs(t[0]! - res.sentAt - ttft));
      for (let i = 1; i < t.length; i++) gapErr.push(Math.abs(t[i]! - t[i - 1]! - itl));
    }
  };
  const wall0 = performance.now();
  await Promise.all(Array.from({ length: streams }, stream));
  const wall = performance.now() - wall0;
  agent.destroy();
  prober.stdin!.end();
  const noise = JSON.parse(String((await probeLines.next()).value)) as { p50: number; p99: number; max: number; stalls: number };
  child.stdin!.end();
  const last = await lines.next();
  const { cpuFraction } = JSON.parse(String(last.value)) as { cpuFraction: number };
  await new Promise((resolve) => child.once("exit", resolve));
  clearTimeout(killer);

  // Server side, from the trace: same errors at the sending end (warm-ups excluded).
  const trace = readFileSync(tracePath, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as TraceRecord)
    .filter((r) => r.status === "ok" && r.completion_tokens === tokens);
  rmSync(dir, { recursive: true, force: true });
  const sTtft = trace.map((r) => Math.abs((r.first_token_s! - r.received_s) * 1000 - ttft));
  const sGap: number[] = [];
  for (const r of trace) for (let i = 1; i < r.token_times_s.length; i++) sGap.push(Math.abs((r.token_times_s[i]! - r.token_times_s[i - 1]!) * 1000 - itl));

  const row = (name: string, xs: number[]): string => {
    const s = summarize(xs);
    const f = (v: number | null) => (v === null ? "-" : v.toFixed(3));
    return `| ${name} | ${s.count} | ${f(s.p50)} | ${f(s.p99)} | ${f(s.max)} |`;
  };
  console.log(
    `hub sim timing: ${streams} streams × ${requests} requests × ${tokens} tokens, ttft ${ttft} ms, itl ${itl} ms, precise wait ${args["precise-wait-ms"]} ms, ${args.lockstep ? "lockstep" : "staggered"}`,
  );
  console.log(`wall ${(wall / 1000).toFixed(1)} s, failed/short responses ${bad}, server CPU ${(cpuFraction * 100).toFixed(0)}% of one core`);
  console.log(
    `machine noise (an idle process's 2 ms timer, lateness): p50 ${noise.p50.toFixed(3)} p99 ${noise.p99.toFixed(3)} max ${noise.max.toFixed(1)} ms, ` +
      `${noise.stalls} stalls > 5 ms; load average ${loadavg()[0]!.toFixed(2)}`,
  );
  console.log("");
  console.log("| absolute error (ms) | n | p50 | p99 | max |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(row("TTFT, client", ttftErr));
  console.log(row("inter-token gap, client", gapErr));
  console.log(row("TTFT, server trace", sTtft));
  console.log(row("inter-token gap, server trace", sGap));
}
