// Injected failures (seeded) and client disconnects.
import { Agent } from "node:http";
import { describe, expect, it } from "vitest";
import { get, post } from "../../src/sim/client.ts";
import { startSimulator } from "../../src/sim/index.ts";

async function statuses(seed: number, failureRate: number, n: number): Promise<number[]> {
  const sim = await startSimulator({ ttftMs: 0, itlMs: 0, failureRate, seed });
  const agent = new Agent({ keepAlive: true });
  try {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await post(sim.url, "/v1/completions", { prompt: [1], max_tokens: 1 }, { agent, timeoutMs: 5000 })).status);
    return out;
  } finally {
    agent.destroy();
    await sim.close();
  }
}

describe("failure rate", () => {
  it("1.0 answers every request with a 500 in OpenAI shape, traced as failed", async () => {
    const sim = await startSimulator({ ttftMs: 1, itlMs: 1, failureRate: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await post(sim.url, "/v1/completions", { prompt: "x", max_tokens: 3, stream: true });
        expect(r.status).toBe(500);
        expect(JSON.parse(r.body).error).toMatchObject({ code: 500, type: "InternalServerError" });
      }
      expect(sim.trace().map((t) => [t.status, t.http_status])).toEqual(Array(5).fill(["failed", 500]));
      const metrics = (await get(sim.url, "/metrics")).body;
      expect(metrics).toMatch(/^hub_sim:request_failure_total\{model_name="hub-sim"\} 5\.0$/m);
    } finally {
      await sim.close();
    }
  });

  it("0.3 with a seed fails about 30 of 100, the same ones every run", async () => {
    const a = await statuses(42, 0.3, 100);
    const failed = a.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThanOrEqual(18);
    expect(failed).toBeLessThanOrEqual(42);
    expect(a.filter((s) => s !== 500 && s !== 200)).toEqual([]);
    expect(await statuses(42, 0.3, 100)).toEqual(a);
    expect(await statuses(43, 0.3, 100)).not.toEqual(a);
  });
});

describe("client disconnect", () => {
  it("stops the stream, frees the slot, records it as aborted, and leaves no timers", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
    const baseline = timers();
    const sim = await startSimulator({ ttftMs: 5, itlMs: 5, maxConcurrency: 1 });
    const r = await post(sim.url, "/v1/completions", { prompt: "abort me", max_tokens: 1000, stream: true }, { abortAfterEvents: 3 });
    expect(r.aborted).toBe(true);
    // The server notices the closed socket within a few ms.
    const deadline = performance.now() + 2000;
    while (sim.trace().length === 0 && performance.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const rec = sim.trace()[0]!;
    expect(rec.status).toBe("aborted");
    expect(rec.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(rec.completion_tokens).toBeLessThan(200); // of 1000; loose: a stalled process sends a burst
    // The only slot is free again: a new request is served without queueing.
    const next = await post(sim.url, "/v1/completions", { prompt: "next", max_tokens: 2, stream: true }, { timeoutMs: 5000 });
    expect(next.eventTimes).toHaveLength(2);
    expect(sim.trace()[1]!.queued_ms).toBe(0);
    const metrics = (await get(sim.url, "/metrics")).body;
    expect(metrics).toMatch(/^vllm:num_requests_running\{model_name="hub-sim"\} 0\.0$/m);
    expect(metrics).toMatch(/^hub_sim:request_aborted_total\{model_name="hub-sim"\} 1\.0$/m);
    const t0 = performance.now();
    await sim.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(timers()).toBeLessThanOrEqual(baseline);
  });

  it("close() aborts streams in flight promptly", async () => {
    const sim = await startSimulator({ ttftMs: 1, itlMs: 20 });
    const pending = post(sim.url, "/v1/completions", { prompt: "long", max_tokens: 10_000, stream: true }).catch((e: unknown) => e);
    await new Promise((res) => setTimeout(res, 50));
    const t0 = performance.now();
    await sim.close();
    expect(performance.now() - t0).toBeLessThan(1000);
    await pending;
    expect(sim.trace()[0]!.status).toBe("aborted");
  });
});
