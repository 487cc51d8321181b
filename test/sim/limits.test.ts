/**
 * The simulator under hostile or huge requests: a body that stops short of its Content-Length is
 * timed out, an oversized body is refused with 413, and one very long prompt does not hold up
 * another stream's tokens (it is parsed and counted on the bulk lane, off the server's thread).
 */
import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";

let sim: Simulator;
let port = 0;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, ttftMs: 20, itlMs: 10, seed: 3, bodyTimeoutMs: 800 });
  port = Number(new URL(sim.url).port);
});
afterAll(async () => {
  await sim.close();
});

function post(body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/v1/completions", method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("simulator limits", () => {
  it("a body shorter than its Content-Length is answered 408 after the body timeout", async () => {
    const started = performance.now();
    const answer = await new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.write(`POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"prompt": "hi"`);
      });
      let got = "";
      s.on("data", (d) => (got += d.toString()));
      s.on("close", () => resolve(got));
      setTimeout(() => s.destroy(), 10_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it("a body over 16 MiB gets 413, and the server keeps serving", async () => {
    const big = Buffer.alloc(17 * 1024 * 1024, 0x61);
    const r = await post(big);
    expect(r.status).toBe(413);
    const ok = await post(JSON.stringify({ prompt: "hello there", max_tokens: 2 }));
    expect(ok.status).toBe(200);
  });

  it("a malformed large body is a 400 from the bulk lane", async () => {
    const r = await post(`{"prompt": "${"x".repeat(400_000)}"`);
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/Invalid JSON body/);
  });

  it("one 8 MB prompt does not delay another stream's tokens by more than a few ms", async () => {
    // Built before the stream starts: the client shares this process's thread with the server.
    const hugeBody = Buffer.from(JSON.stringify({ prompt: "lorem ipsum dolor sit amet ".repeat(300_000), max_tokens: 1 }));
    const before = sim.trace().length;
    const small = post(JSON.stringify({ prompt: "a short prompt", max_tokens: 120, stream: true }));
    await new Promise((r) => setTimeout(r, 300));
    const huge = post(hugeBody);
    const [a, b] = await Promise.all([small, huge]);
    expect(a.status).toBe(200);
    // 8 MB of prompt: counted (about 1.5M tokens) and refused by the context length, as vLLM does.
    expect(b.status).toBe(400);
    expect(b.body).toMatch(/maximum context length/);
    const trace = sim.trace().slice(before);
    const stream = trace.find((t) => t.completion_tokens === 120)!;
    const times = stream.token_times_s;
    let worst = 0;
    for (let i = 1; i < times.length; i++) worst = Math.max(worst, (times[i]! - times[i - 1]!) * 1000 - 10);
    console.log(`worst token-gap delay of a stream while an 8 MB prompt arrived: ${worst.toFixed(2)} ms (server clock)`);
    expect(worst).toBeLessThan(15);
  }, 30_000);
});
