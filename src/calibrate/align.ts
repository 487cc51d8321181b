/**
 * Why a harness's TTFT differs from the simulator's: each of the harness's requests matched to the
 * trace record the server kept for it, and the difference split into
 *   send    = server received the request − harness stamped its start (client work before the
 *             request reached the server: building it, the event loop, connection setup), and
 *   receive = harness recorded the first token − server handed it to the socket,
 * so harness TTFT − server TTFT = send + receive, request by request.
 *
 * Harness clocks differ. A harness stamping epoch time (guidellm) on the same machine shares the
 * trace's clock (the simulator keeps its trace on the wall clock), so the offset is 0. Otherwise
 * (inference-perf, vLLM: perf_counter, any origin) the offset is estimated per request as the
 * smallest difference between a token's arrival and its sending, and then the median over
 * requests: the fastest of a request's 128 token deliveries on loopback takes well under a
 * millisecond, and the median is immune to the odd request matched to its near twin.
 */
import type { RequestRecord } from "../metrics/records.ts";
import { percentile, summarize, type Summary, minOf } from "../metrics/stats.ts";
import type { TraceRecord } from "../sim/index.ts";

export interface Alignment {
  /** Harness requests matched to a trace record. */
  matched: number;
  /** Harness clock minus server clock, in s: 0 for a harness stamping epoch time, else estimated. */
  clock_offset_s: number;
  /** Server receipt − harness start, ms, per request. */
  send_ms: Summary;
  /** Harness first token − server first token, ms, per request. */
  receive_ms: Summary;
  /** Harness end − server end, ms, per request. */
  end_ms: Summary;
  /** Harness TTFT − server TTFT of the same request (= send + receive), ms; needs no clock offset. */
  ttft_diff_ms: Summary;
  /**
   * False when the split contradicts itself (requests received before they were sent, beyond
   * timer noise): the estimated clock offset is off, so send and receive are not to be read, only
   * their sum ttft_diff_ms, which needs no offset.
   */
  split_consistent: boolean;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

type Ok = RequestRecord & { first_token_s: number };
type OkTrace = TraceRecord & { first_token_s: number };

/** Token-time differences (harness − server) of one pair: every token when both have them all, else first and last. */
function tokenDiffs(h: Ok, t: OkTrace): number[] {
  const ht = h.token_times_s;
  if (ht && ht.length === t.token_times_s.length && ht.length > 0) return ht.map((x, i) => x - t.token_times_s[i]!);
  const diffs = [h.first_token_s - t.first_token_s];
  const last = t.token_times_s.at(-1);
  if (h.last_token_s !== undefined && last !== undefined) diffs.push(h.last_token_s - last);
  return diffs;
}

/** The split of the TTFT difference, or why the harness's requests cannot be matched one to one. */
export function alignToTrace(records: readonly RequestRecord[], trace: readonly TraceRecord[]): Alignment | string {
  const hs = records.filter((r): r is Ok => r.status === "ok" && r.first_token_s !== undefined).sort((a, b) => a.start_s - b.start_s);
  const ts = trace.filter((t): t is OkTrace => t.status === "ok" && t.first_token_s !== null).sort((a, b) => a.received_s - b.received_s);
  if (hs.length === 0) return "the harness recorded no first-token times";
  if (hs.length > ts.length) return `the harness recorded ${hs.length} successful requests, the simulator served ${ts.length}`;

  // First tokens keep their order from server to client, and a harness that counts fewer requests
  // than the server served leaves out a run of them (warm-up, outside its window): pair the k-th
  // first token with the (j + k)-th, for the j where the differences are most alike.
  const hf = [...hs].sort((a, b) => a.first_token_s - b.first_token_s);
  const tf = [...ts].sort((a, b) => a.first_token_s - b.first_token_s);
  let best: { pairs: [Ok, OkTrace][]; spread: number } | undefined;
  for (let j = 0; j <= tf.length - hf.length; j++) {
    const pairs = hf.map((h, k): [Ok, OkTrace] => [h, tf[j + k]!]);
    const d = pairs.map(([h, t]) => h.first_token_s - t.first_token_s).sort((a, b) => a - b);
    // Inner 80%: robust to a request or two the client got late.
    const spread = d[Math.floor(d.length * 0.9)]! - d[Math.floor(d.length * 0.1)]!;
    if (!best || spread < best.spread) best = { pairs, spread };
  }
  if (!best) return "no match between the harness's requests and the trace";

  // Near-simultaneous requests (closed-loop streams start together and stay in step) can swap
  // order on the way to the client. For the right partner, the earliest of a request's token
  // differences is the clock offset plus a near-zero receive delay, the same for every request;
  // a swapped partner's is off by the gap between the two. So: the offset as the median of
  // those minima over the order pairing, then re-pair within a few places, closest first.
  const minDiff = (h: Ok, t: OkTrace) => minOf(tokenDiffs(h, t));
  let c = median(best.pairs.map(([h, t]) => minDiff(h, t)));
  const j0 = tf.indexOf(best.pairs[0]![1]);
  let pairs: [Ok, OkTrace][] = best.pairs;
  for (let round = 0; round < 2; round++) {
    const candidates: { h: Ok; t: OkTrace; cost: number }[] = [];
    hf.forEach((h, k) => {
      for (let i = Math.max(0, j0 + k - 3); i <= Math.min(tf.length - 1, j0 + k + 3); i++) candidates.push({ h, t: tf[i]!, cost: Math.abs(minDiff(h, tf[i]!) - c) });
    });
    candidates.sort((a, b) => a.cost - b.cost);
    const partner = new Map<Ok, OkTrace>();
    const taken = new Set<OkTrace>();
    for (const x of candidates) {
      if (partner.has(x.h) || taken.has(x.t)) continue;
      partner.set(x.h, x.t);
      taken.add(x.t);
    }
    if (partner.size !== hf.length) break;
    pairs = hf.map((h): [Ok, OkTrace] => [h, partner.get(h)!]);
    c = median(pairs.map(([h, t]) => minDiff(h, t)));
  }

  // Same wall clock when the harness's times are within a minute of the server's.
  const gap = median(pairs.map(([h, t]) => h.first_token_s - t.first_token_s));
  const offset = Math.abs(gap) < 60 ? 0 : median(pairs.map(([h, t]) => minDiff(h, t)));
  const send: number[] = [];
  const receive: number[] = [];
  const end: number[] = [];
  const diff: number[] = [];
  for (const [h, t] of pairs) {
    diff.push((h.first_token_s - h.start_s - (t.first_token_s - t.received_s)) * 1000);
    send.push((t.received_s - (h.start_s - offset)) * 1000);
    receive.push((h.first_token_s - offset - t.first_token_s) * 1000);
    if (h.end_s !== undefined) end.push((h.end_s - offset - t.end_s) * 1000);
  }
  return { matched: pairs.length, clock_offset_s: offset, send_ms: summarize(send), receive_ms: summarize(receive), end_ms: summarize(end), ttft_diff_ms: summarize(diff), split_consistent: percentile(send, 0.05) >= -0.5 };
}
