import type { WriteStream } from "node:fs";
import { hasSecrets, redactText } from "../run/redact.ts";

/**
 * A harness's output stream cut into lines: each line has secrets from the environment replaced
 * (a harness that echoes its API key must not put it in hub's logs or terminal), is appended to
 * the log file and handed to onLine. Partial lines wait for the rest of their chunk.
 */
export class LineSink {
  private rest = "";
  private readonly secrets = hasSecrets();
  private readonly log: WriteStream;
  private readonly onLine: (line: string) => void;
  constructor(log: WriteStream, onLine: (line: string) => void = () => {}) {
    this.log = log;
    this.onLine = onLine;
  }

  write(chunk: string): void {
    const lines = (this.rest + chunk).split(/\r?\n|\r/);
    this.rest = lines.pop() ?? "";
    for (const l of lines) this.emit(l, "\n");
  }

  end(): void {
    if (this.rest) this.emit(this.rest, "");
    this.rest = "";
  }

  private emit(line: string, eol: string): void {
    const clean = this.secrets ? redactText(line) : line;
    this.log.write(clean + eol);
    this.onLine(clean);
  }
}

