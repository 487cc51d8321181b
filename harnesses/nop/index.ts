import { readFileSync } from "node:fs";
import { nopConverter, NOP_FILES } from "../../converters/nop.ts";
import { defineHarness, type TranslateContext, type TranslateResult } from "../../src/harness/contract.ts";
import type { Profile } from "../../src/profile/schema.ts";
import { HUB_VERSION } from "../../src/version.ts";

/**
 * nop, after llm-d-benchmark's harness of that name: sends no load and measures the target
 * server's start-up instead. Its probe (hub_nop_probe.py, standard-library Python, written into
 * the output folder) polls GET /health and GET /v1/models until both answer; the converter reads
 * the probe's timings and, from the server's vLLM log, the start-up phases llm-d-benchmark
 * reports. The log is `server.log` in the output folder (hub puts the target's log there), or the
 * file given to `hub convert --harness nop <log>`.
 *
 * nop ships with hub: it installs nothing (no packages) and is versioned with hub. It declares
 * no capabilities because it expresses no load at all: whatever a profile asks for is not sent.
 */

const PROBE = "hub_nop_probe.py";
const PROBE_SOURCE = readFileSync(new URL(`./${PROBE}`, import.meta.url), "utf8");
/** How long the probe waits for the server when the profile sets no limit. */
export const DEFAULT_WAIT_S = 600;

function translate(profile: Profile, ctx: TranslateContext): TranslateResult {
  const wait = profile.limits.max_duration_s ?? DEFAULT_WAIT_S;
  return {
    kind: "ok",
    invocations: [
      {
        argv: ["python3", PROBE, "--target", ctx.target, "--timeout", String(wait), "--out", NOP_FILES.probe],
        files: { [PROBE]: PROBE_SOURCE },
      },
    ],
    warnings: [`nop sends no load: profile ${profile.name}'s load and data are not used`],
  };
}

export default defineHarness({
  name: "nop",
  description: "No load: the target's start-up, when /health and /v1/models answer and the phases of its vLLM log",
  version: HUB_VERSION,
  install: { kind: "pip", distribution: "hub-nop", packages: [] },
  capabilities: [],
  translate,
  converter: nopConverter,
});
