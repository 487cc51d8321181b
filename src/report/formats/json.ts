import type { Cell, Comparison } from "../compare.ts";
import { round } from "./csv.ts";

/**
 * The comparison model itself, numbers rounded to six significant digits; `format` and
 * `version` let a script check what it reads.
 */
export function renderJson(cmp: Comparison): string {
  const cell = (c: Cell) => ({ ...c, value: round(c.value), ...(c.delta !== undefined ? { delta: round(c.delta) } : {}) });
  const rows = cmp.rows.map((r) => ({
    ...r,
    requests: { ...r.requests, total: cell(r.requests.total) },
    failureRate: cell(r.failureRate),
    requestsPerS: cell(r.requestsPerS),
    outputTokensPerS: cell(r.outputTokensPerS),
    latency: Object.fromEntries(Object.entries(r.latency).map(([k, ps]) => [k, Object.fromEntries(Object.entries(ps).map(([p, c]) => [p, cell(c)]))])),
  }));
  return JSON.stringify({ format: "hub-compare", version: 1, ...cmp, rows }, null, 2);
}
