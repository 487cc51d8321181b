import type { Command } from "commander";
import { calibrationSettings, DEFAULT_ITL_MS, DEFAULT_PROFILE, DEFAULT_REQUESTS, DEFAULT_SEED, DEFAULT_TOLERANCE, DEFAULT_TTFT_MS, describeSetting } from "../../calibrate/settings.ts";
import { UserError } from "../../errors.ts";
import { positiveNumber } from "./run.ts";
import { NUMBER_SPECS, parseNumberFlag } from "../../sim/options.ts";

const collect = (value: string, previous: string[]) => [...previous, value];

const simNumber = (key: string) => (text: string) => parseNumberFlag(NUMBER_SPECS.find((s) => s.key === key)!, text);

function wholeNumber(flag: string) {
  return (text: string) => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isInteger(n) || n < 0) throw new UserError(`${flag} must be a whole number >= 0, got "${text}"`);
    return n;
  };
}

function fraction(flag: string) {
  return (text: string) => {
    const n = Number(text);
    if (text.trim() === "" || !(n > 0 && n < 1)) throw new UserError(`${flag} must be a fraction between 0 and 1 (0.1 = 10%), got "${text}"`);
    return n;
  };
}

export function registerCalibrateCommand(program: Command): void {
  program
    .command("calibrate")
    .description("Run harnesses against the simulator with known latencies and print each one's error against the simulator's ground truth")
    .option("--harness <a,b,...>", "harnesses to calibrate, installed if need be (default: every installed harness that can run the profile)")
    .option("--profile <name|path>", "workload every harness runs; must have one stage", DEFAULT_PROFILE)
    .option("-o, --override <path=value>", "override a profile field (repeatable), as in hub run", collect, [])
    .option("--requests <n>", "bound every stage by n requests instead of its duration, so every harness sends the same requests; 0 keeps the profile's bounds", wholeNumber("--requests"), DEFAULT_REQUESTS)
    .option("--ttft-ms <ms>", "simulator TTFT", simNumber("ttftMs"), DEFAULT_TTFT_MS)
    .option("--itl-ms <ms>", "simulator gap between output tokens", simNumber("itlMs"), DEFAULT_ITL_MS)
    .option("--ttft-jitter-ms <ms>", "stddev of the jitter setting's TTFT noise (default: 20% of --ttft-ms)", simNumber("ttftJitterMs"))
    .option("--itl-jitter-ms <ms>", "stddev of the jitter setting's token-gap noise (default: 30% of --itl-ms)", simNumber("itlJitterMs"))
    .option("--no-jitter", "run only the steady setting (no jitter)")
    .option("--seed <n>", "simulator seed, the same for every harness", simNumber("seed"), DEFAULT_SEED)
    .option("--tolerance <fraction>", "allowed relative error of TTFT p50 and ITL p50", fraction("--tolerance"), DEFAULT_TOLERANCE)
    .option("--runtime <name>", "where the harnesses run: local or docker", "local")
    .option("--timeout <s>", "stop a harness run after this many seconds", positiveNumber("--timeout"))
    .option("--out <dir>", "results directory; default results/calibrate-<timestamp>/")
    .option("--json", "print calibration.json to stdout instead of the table")
    .option("-v, --verbose", "show each harness's output")
    .addHelpText(
      "after",
      `
Runs each harness at two simulator settings: "steady" (TTFT and ITL exactly as set) and "jitter"
(the same means with normal noise), each run with a fresh simulator seeded alike, and compares
the harness's normalised TTFT, TPOT, ITL, NTPOT, E2E and output tokens/s with the simulator's
trace. Exits 1 if a run fails or a harness's TTFT p50 or ITL p50 is off by more than the tolerance.
Writes calibration.json and every run's directory into the results directory.

Examples:
  hub calibrate
  hub calibrate --harness guidellm,inference-perf --ttft-ms 100 --itl-ms 20 --no-jitter
`,
    )
    .action(async (o) => {
      const { calibrate } = await import("../../calibrate/run.ts");
      const { pct, renderCalibration } = await import("../../calibrate/table.ts");
      const settings = calibrationSettings({
        ttftMs: o.ttftMs,
        itlMs: o.itlMs,
        ...(o.ttftJitterMs !== undefined ? { ttftJitterMs: o.ttftJitterMs } : {}),
        ...(o.itlJitterMs !== undefined ? { itlJitterMs: o.itlJitterMs } : {}),
        seed: o.seed ?? DEFAULT_SEED,
        noJitter: o.jitter === false,
      });
      const harnesses = o.harness === undefined ? undefined : String(o.harness).split(",").map((s: string) => s.trim()).filter(Boolean);
      if (harnesses !== undefined && harnesses.length === 0) throw new UserError("--harness needs at least one harness name");
      const say = (s: string) => process.stderr.write(`hub: ${s}\n`);
      const abort = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          say("stopping the current harness (Ctrl-C again to quit at once)…");
          abort.abort();
        } else process.exit(130);
      };
      process.on("SIGINT", onSigint);
      process.on("SIGTERM", onSigint);
      try {
        const result = await calibrate(
          {
            ...(harnesses ? { harnesses } : {}),
            profile: o.profile,
            overrides: o.override,
            requests: o.requests,
            settings,
            tolerance: o.tolerance,
            runtime: o.runtime,
            ...(o.timeout !== undefined ? { timeoutS: o.timeout } : {}),
            ...(o.out !== undefined ? { out: o.out } : {}),
            signal: abort.signal,
          },
          {
            reporter: {
              onWarning: (m) => say(`warning: ${m}`),
              onInstallLine: (l) => process.stderr.write(`  ${l}\n`),
              ...(o.verbose ? { onHarnessOutput: (_s: string, l: string) => process.stderr.write(`  │ ${l}\n`) } : {}),
            },
            onRunStart: (s, h, dir) => say(`${s.name} (${describeSetting(s)}): running ${h} → ${dir}`),
            onRunEnd: (s, r) => {
              const checks = r.checks?.map((c) => `${c.metric} ${pct(c.rel)} ${c.against === "paired" ? "per request" : `vs ${c.against}`}`).join(", ");
              say(`${s.name}: ${r.harness} ${r.status} in ${r.wall_s.toFixed(0)} s${checks ? `: ${checks}` : ""}${r.reason ? `: ${r.reason}` : ""}`);
            },
          },
        );
        process.stdout.write(o.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderCalibration(result)}\n`);
        process.exitCode = abort.signal.aborted ? 130 : result.ok ? 0 : 1;
      } finally {
        process.off("SIGINT", onSigint);
        process.off("SIGTERM", onSigint);
      }
    });
}
