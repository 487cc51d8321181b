import { UserError } from "../errors.ts";

export interface TargetInfo {
  url: string;
  models: string[];
}

/** Query parameters whose values are credentials. */
const SECRET_PARAM = /^(api[_-]?key|key|token|access[_-]?token|auth|authorization|secret|password|sig|signature)$/i;

/**
 * A URL as it may be shown or recorded: userinfo and secret-looking query values replaced by
 * <redacted>. Works on text that is not a valid URL too (it is shown in the error that says so).
 */
export function redactUrl(url: string): string {
  let out = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, "$1<redacted>@");
  out = out.replace(/([?&])([^=&#]+)=([^&#]*)/g, (m, sep: string, k: string) => (SECRET_PARAM.test(decodeURIComponentSafe(k)) ? `${sep}${k}=<redacted>` : m));
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Strips a trailing slash and a trailing /v1: harnesses want the server root. A URL carrying
 * credentials is refused: hub would have to pass it on to the harness's command line and
 * record it, and Node's fetch refuses such URLs anyway.
 */
export function normalizeTarget(url: string): string {
  const shown = redactUrl(url);
  if (url.trim() === "") throw new UserError("--target is empty; give the server root, for example http://127.0.0.1:8000, or leave --target out to use hub's simulator");
  let u = url.trim().replace(/\/+$/, "");
  if (u.endsWith("/v1")) u = u.slice(0, -3);
  let parsed: URL;
  try {
    parsed = new URL(u);
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error();
  } catch {
    throw new UserError(`--target ${shown} is not an http(s) URL (for example http://127.0.0.1:8000)`);
  }
  if (parsed.username !== "" || parsed.password !== "") {
    throw new UserError(`--target ${shown}: credentials in the URL are not accepted (they would end up in command lines and logs); give the server root without them and the key in the OPENAI_API_KEY environment variable`);
  }
  const secret = [...parsed.searchParams.keys()].find((k) => SECRET_PARAM.test(k));
  if (secret !== undefined) {
    throw new UserError(`--target ${shown}: the query parameter "${secret}" looks like a credential; give the key in the OPENAI_API_KEY environment variable instead`);
  }
  return u;
}

/** Fails fast, before any harness starts, when the target does not answer /v1/models. */
export async function probeTarget(url: string, timeoutMs = 5000, signal?: AbortSignal): Promise<TargetInfo> {
  const headers: Record<string, string> = {};
  if (process.env.OPENAI_API_KEY) headers.authorization = `Bearer ${process.env.OPENAI_API_KEY}`;
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    res = await fetch(`${url}/v1/models`, { signal: signal ? AbortSignal.any([timeout, signal]) : timeout, headers });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new UserError(`target ${url} is not reachable (${cause}): GET ${url}/v1/models failed. Is the server running? Without --target, hub starts its built-in simulator.`);
  }
  if (!res.ok) throw new UserError(`target ${url} answered GET /v1/models with HTTP ${res.status}; is it an OpenAI-compatible server?`);
  const body = (await res.json().catch(() => undefined)) as { data?: unknown } | undefined;
  // Whatever the server sent, only string ids in a list of objects count as models.
  const data = Array.isArray(body?.data) ? body.data : [];
  const models = data.map((m: unknown) => (m !== null && typeof m === "object" ? (m as { id?: unknown }).id : undefined)).filter((id): id is string => typeof id === "string");
  return { url, models };
}
