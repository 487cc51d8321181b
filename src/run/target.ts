import { UserError } from "../errors.ts";

export interface TargetInfo {
  url: string;
  models: string[];
}

/** Strips a trailing slash and a trailing /v1: harnesses want the server root. */
export function normalizeTarget(url: string): string {
  let u = url.trim().replace(/\/+$/, "");
  if (u.endsWith("/v1")) u = u.slice(0, -3);
  try {
    const parsed = new URL(u);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new UserError(`--target ${url} is not an http(s) URL (for example http://127.0.0.1:8000)`);
  }
  return u;
}

/** Fails fast, before any harness starts, when the target does not answer /v1/models. */
export async function probeTarget(url: string, timeoutMs = 5000): Promise<TargetInfo> {
  const headers: Record<string, string> = {};
  if (process.env.OPENAI_API_KEY) headers.authorization = `Bearer ${process.env.OPENAI_API_KEY}`;
  let res: Response;
  try {
    res = await fetch(`${url}/v1/models`, { signal: AbortSignal.timeout(timeoutMs), headers });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new UserError(`target ${url} is not reachable (${cause}): GET ${url}/v1/models failed. Is the server running? Without --target, hub starts its built-in simulator.`);
  }
  if (!res.ok) throw new UserError(`target ${url} answered GET /v1/models with HTTP ${res.status}; is it an OpenAI-compatible server?`);
  const body = (await res.json().catch(() => undefined)) as { data?: { id?: unknown }[] } | undefined;
  const models = (body?.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === "string");
  return { url, models };
}
