import { homedir } from "node:os";
import { join } from "node:path";

/** Where hub keeps harness environments and images: $HUB_HOME, default ~/.cache/harness-hub. */
export function hubHome(): string {
  return process.env.HUB_HOME || join(homedir(), ".cache", "harness-hub");
}
