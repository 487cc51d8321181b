import type Docker from "dockerode";
import { UserError } from "../../errors.ts";

/** Labels on everything hub creates in Docker, so leftovers can be found (`hub gc`). */
export const LABELS = {
  runId: "harness-hub.run-id",
  harness: "harness-hub.harness",
  /** The hub process that owns a container, and its host: `hub gc` spares live owners. */
  pid: "harness-hub.pid",
  host: "harness-hub.host",
  /** On images: the pinned harness version, the base image and a hash of what went into it. */
  harnessVersion: "harness-hub.harness-version",
  baseImage: "harness-hub.base-image",
  buildHash: "harness-hub.build-hash",
} as const;

/** Where the client connects: DOCKER_HOST or the default socket. */
export function dockerHost(): string {
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock (DOCKER_HOST is not set)";
}

export class DockerUnavailableError extends UserError {
  override name = "DockerUnavailableError";
}

let cached: { host: string | undefined; docker: Promise<Docker> } | undefined;

/**
 * A dockerode client that has answered a ping. dockerode is loaded on first use so that commands
 * which never touch Docker do not pay for it. Connection settings come from the environment as
 * for the docker CLI (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH).
 */
export function connect(): Promise<Docker> {
  const host = process.env.DOCKER_HOST;
  if (cached && cached.host === host) return cached.docker;
  const docker = (async () => {
    const { default: Dockerode } = await import("dockerode");
    const client = new Dockerode();
    try {
      await withTimeout(client.ping(), 10_000, "no answer within 10 s");
    } catch (e) {
      throw new DockerUnavailableError(
        `cannot reach the Docker daemon (${shortError(e)}). Is Docker running? DOCKER_HOST=${dockerHost()}. ` +
          "Start Docker, or point DOCKER_HOST at a running engine (scripts/docker-engine.sh starts one on Debian).",
      );
    }
    return client;
  })();
  cached = { host, docker };
  // A failed connection is not remembered: the next call tries again.
  docker.catch(() => {
    if (cached?.docker === docker) cached = undefined;
  });
  return docker;
}

export function shortError(e: unknown): string {
  const err = e as { message?: string; code?: string; json?: { message?: string }; statusCode?: number };
  const message = err?.json?.message ?? err?.message ?? String(e);
  return message.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
}

/** dockerode's HTTP errors carry statusCode; 404 means "no such image/container". */
export const isNotFound = (e: unknown) => (e as { statusCode?: number })?.statusCode === 404;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(what)), ms);
      timer.unref();
    }),
  ]);
}

/**
 * For test suites: whether an engine answers, and if not why. Tests skip with the reason on a
 * developer machine without Docker, and fail in CI (CI=true), which starts an engine.
 */
export async function engineAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await connect();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}
