/**
 * Ctrl-C and SIGTERM for a long command: the first aborts the work (which stops its child
 * processes and keeps what was collected), the second exits at once with 130.
 */
export async function withInterrupts<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      process.stderr.write(`\nhub: stopping ${what} (Ctrl-C again to quit at once)…\n`);
      abort.abort();
    } else process.exit(130);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
