import { connect, isNotFound, shortError } from "./engine.ts";
import { UserError } from "../../errors.ts";

/**
 * A container's log so far, as `docker logs --timestamps <name>` prints it: stdout and stderr,
 * each line prefixed with the engine's RFC 3339 timestamp (nanoseconds, UTC).
 */
export async function containerLogs(name: string): Promise<string> {
  const docker = await connect();
  const container = docker.getContainer(name);
  let tty: boolean;
  try {
    tty = Boolean((await container.inspect()).Config?.Tty);
  } catch (e) {
    if (isNotFound(e)) throw new UserError(`no container named ${name} in the Docker engine`);
    throw new UserError(`Docker: ${shortError(e)}`);
  }
  const raw = (await container.logs({ stdout: true, stderr: true, timestamps: true, follow: false })) as unknown as Buffer;
  if (tty) return raw.toString("utf8");
  // Without a TTY the engine multiplexes: frames of [stream, 0, 0, 0, size (uint32 BE)] + payload.
  const parts: Buffer[] = [];
  for (let i = 0; i + 8 <= raw.length; ) {
    const size = raw.readUInt32BE(i + 4);
    parts.push(raw.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}
