import type { Reporter } from "./reporter.ts";
import { summaryTable } from "./table.ts";

export interface TerminalOptions {
  /** Hide harness output and install progress; keep warnings and the summary. */
  quiet: boolean;
  /** Print metrics.json to stdout instead of the summary table. */
  json: boolean;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
}

/** Progress on stderr, the result on stdout, so `hub run --json > m.json` stays clean. */
export function terminalReporter(opts: TerminalOptions): Reporter {
  const out = opts.out ?? process.stdout;
  const err = opts.err ?? process.stderr;
  const say = (s: string) => err.write(`hub: ${s}\n`);
  return {
    onInfo: (m) => {
      if (!opts.quiet) say(m);
    },
    onWarning: (m) => say(`warning: ${m}`),
    onInstallLine: (l) => {
      if (!opts.quiet) err.write(`  ${l}\n`);
    },
    onRunStart: (e) => {
      if (opts.quiet) return;
      say(`run ${e.runId}: ${e.harness} ${e.harnessVersion}, profile ${e.profile}, target ${e.target}${e.simulated ? " (built-in simulator)" : ""}, model ${e.model}`);
      say(`results in ${e.outDir}`);
    },
    onHarnessStart: (e) => {
      if (!opts.quiet) say(`starting${e.stage !== undefined ? ` stage ${e.stage}` : ""}: ${e.command.join(" ")}`);
    },
    onHarnessOutput: (_stream, line) => {
      if (!opts.quiet) err.write(`  │ ${line}\n`);
    },
    onHarnessEnd: (r) => {
      if (!opts.quiet) say(`harness ${r.kind === "ok" ? "finished" : r.kind} in ${(r.durationMs / 1000).toFixed(1)} s`);
    },
    onRunEnd: (o) => {
      if (o.kind === "ok") {
        if (opts.json) out.write(`${JSON.stringify(o.metrics, null, 2)}\n`);
        else out.write(`${summaryTable(o.metrics, o.outDir)}\n`);
        say(`wrote ${o.outDir}/metrics.json`);
        return;
      }
      if (o.metrics && !opts.json) out.write(`${summaryTable(o.metrics, o.outDir)}\n`);
      const what = o.kind === "failed" ? `failed: ${o.reason}` : o.kind === "interrupted" ? "interrupted" : "timed out";
      say(`run ${what}. Everything collected so far is in ${o.outDir} (run.json, native/ logs)`);
    },
  };
}
