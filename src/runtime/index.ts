import { UserError } from "../errors.ts";
import { createDockerRuntime, dockerRuntime } from "./docker/index.ts";
import { localRuntime } from "./local.ts";
import type { Runtime, RuntimeOptions } from "./runtime.ts";

/** Runtimes by the name `--runtime` takes; the heavy ones load on first use. */
export const RUNTIME_NAMES = ["local", "docker", "kubernetes"] as const;

/** The runtime `--runtime name` asks for, configured with what the CLI or hub.config.yaml give. */
export async function createRuntime(name: string, options: RuntimeOptions = {}): Promise<Runtime> {
  switch (name) {
    case "local":
      if (options.image !== undefined) throw new UserError("--image needs --runtime docker or kubernetes (the local runtime runs no images)");
      return localRuntime;
    case "docker":
      return options.image !== undefined ? createDockerRuntime({ image: options.image }) : dockerRuntime;
    case "kubernetes": {
      // Loaded only here: @kubernetes/client-node is large.
      const { createKubernetesRuntime } = await import("./kubernetes/index.ts");
      return createKubernetesRuntime(options);
    }
    default:
      throw new UserError(`unknown runtime "${name}". Available: ${RUNTIME_NAMES.join(", ")}`);
  }
}

/** The log of a Docker container running the target server (`--server-container`). */
export async function serverContainerLog(name: string): Promise<string> {
  const { containerLogs } = await import("./docker/logs.ts");
  return containerLogs(name);
}
