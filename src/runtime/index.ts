import { UserError } from "../errors.ts";
import { dockerRuntime } from "./docker/index.ts";
import { localRuntime } from "./local.ts";
import type { Runtime } from "./runtime.ts";

/** Runtimes by the name `--runtime` takes. */
export const runtimes: Record<string, Runtime> = { local: localRuntime, docker: dockerRuntime };

export function getRuntime(name: string): Runtime {
  const r = runtimes[name];
  if (!r) throw new UserError(`unknown runtime "${name}". Available: ${Object.keys(runtimes).join(", ")}`);
  return r;
}
