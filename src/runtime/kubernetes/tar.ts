/**
 * A streaming tar reader for the copy-out of /results: ustar headers, pax extended headers (long
 * names, large sizes) and GNU long names. It writes regular files and directories under one
 * folder and nothing else: no links, devices or FIFOs (counted as skipped), and no path that is
 * absolute or climbs out with "..".
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname, join, normalize, sep } from "node:path";
import { Writable } from "node:stream";

const BLOCK = 512;

interface Header {
  name: string;
  size: number;
  type: string;
  mode: number;
}

/** Octal, or base-256 when the first byte's high bit is set (GNU, for sizes of 8 GiB and more). */
function numberField(buf: Buffer): number {
  if (buf[0]! & 0x80) {
    let n = buf[0]! & 0x7f;
    for (let i = 1; i < buf.length; i++) n = n * 256 + buf[i]!;
    return n;
  }
  const text = buf.toString("latin1").replace(/\0.*$/s, "").trim();
  return text ? parseInt(text, 8) : 0;
}

const cString = (buf: Buffer) => {
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8");
};

function parseHeader(block: Buffer): Header | undefined {
  if (block.every((b) => b === 0)) return undefined;
  const stored = numberField(block.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  if (sum !== stored) throw new Error("tar header checksum mismatch");
  const name = cString(block.subarray(0, 100));
  const magic = block.subarray(257, 262).toString("latin1");
  const prefix = magic === "ustar" ? cString(block.subarray(345, 500)) : "";
  return {
    name: prefix ? `${prefix}/${name}` : name,
    mode: numberField(block.subarray(100, 108)),
    size: numberField(block.subarray(124, 136)),
    type: String.fromCharCode(block[156]!) || "0",
  };
}

/** pax records: "<length> <key>=<value>\n", repeated. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString("latin1"), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, pos + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

export interface ExtractOptions {
  /** Top-level names not to write (hub's own logs in the same folder). */
  skip?: readonly string[];
}

/** A Writable that extracts the tar stream written to it under `dir`. */
export class TarExtractor extends Writable {
  readonly dir: string;
  files = 0;
  bytes = 0;
  /** Entries left out: links, devices, unsafe paths. */
  skipped: string[] = [];
  private pending = Buffer.alloc(0);
  private state: "header" | "data" | "meta" | "end" = "header";
  private entry: Header | undefined;
  private remaining = 0;
  private padding = 0;
  private fd: number | undefined;
  private meta: Buffer[] = [];
  private next: { path?: string; size?: number } = {};
  private readonly skipTop: Set<string>;

  constructor(dir: string, opts: ExtractOptions = {}) {
    super();
    this.dir = normalize(dir);
    this.skipTop = new Set(opts.skip ?? []);
    mkdirSync(this.dir, { recursive: true });
  }

  /** Whether the stream ended at an end-of-archive marker (a cut copy does not). */
  get complete(): boolean {
    return this.state === "end";
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    try {
      this.consume(chunk);
      cb();
    } catch (e) {
      this.closeFile();
      cb(e as Error);
    }
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.closeFile();
    cb();
  }

  private consume(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length > 0 && this.state !== "end") {
      if (this.state === "header") {
        if (buf.length < BLOCK) break;
        this.startEntry(buf.subarray(0, BLOCK));
        buf = buf.subarray(BLOCK);
        continue;
      }
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, buf.length);
        this.body(buf.subarray(0, n));
        this.remaining -= n;
        buf = buf.subarray(n);
        if (this.remaining > 0) break;
        this.endEntry();
      }
      const skip = Math.min(this.padding, buf.length);
      this.padding -= skip;
      buf = buf.subarray(skip);
      if (this.padding === 0 && this.remaining === 0) this.state = "header";
    }
    this.pending = this.state === "end" ? Buffer.alloc(0) : Buffer.from(buf);
  }

  private startEntry(block: Buffer): void {
    const h = parseHeader(block);
    if (!h) {
      this.state = "end";
      return;
    }
    const size = h.type === "x" || h.type === "g" || h.type === "L" ? h.size : (this.next.size ?? h.size);
    if (this.next.path !== undefined && !["x", "g", "L", "K"].includes(h.type)) h.name = this.next.path;
    this.entry = { ...h, size };
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    const meta = h.type === "x" || h.type === "L" || h.type === "g" || h.type === "K";
    this.state = meta ? "meta" : "data";
    if (!meta) this.open(this.entry);
    if (this.remaining === 0) this.endEntry();
  }

  private body(data: Buffer): void {
    if (this.state === "meta") this.meta.push(Buffer.from(data));
    else if (this.fd !== undefined) {
      for (let off = 0; off < data.length; ) off += writeSync(this.fd, data, off);
      this.bytes += data.length;
    }
  }

  private endEntry(): void {
    const e = this.entry!;
    if (this.state === "meta") {
      const data = Buffer.concat(this.meta);
      this.meta = [];
      if (e.type === "x") {
        const pax = parsePax(data);
        if (pax.path !== undefined) this.next.path = pax.path;
        if (pax.size !== undefined) this.next.size = Number(pax.size);
      } else if (e.type === "L") this.next.path = cString(data);
    } else {
      this.closeFile();
      this.next = {};
    }
  }

  /** The file's place under dir, or undefined (and noted) when it must not be written. */
  private target(name: string): string | undefined {
    const rel = normalize(name).replace(/^(\.\/)+/, "").replace(/\/+$/, "");
    if (rel === "." || rel === "") return undefined;
    if (rel.startsWith("/") || rel === ".." || rel.startsWith(`..${sep}`)) {
      this.skipped.push(`${name} (outside the folder)`);
      return undefined;
    }
    if (this.skipTop.has(rel.split(sep)[0]!)) return undefined;
    return join(this.dir, rel);
  }

  private open(h: Header): void {
    if (h.type === "5") {
      const dir = this.target(h.name);
      if (dir) mkdirSync(dir, { recursive: true });
      return;
    }
    if (h.type !== "0" && h.type !== "\0" && h.type !== "7") {
      if (this.target(h.name)) this.skipped.push(`${h.name} (${h.type === "2" ? "symbolic link" : h.type === "1" ? "hard link" : `type ${h.type}`})`);
      return;
    }
    const path = this.target(h.name);
    if (!path) return;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, "w", (h.mode & 0o777) | 0o600);
    this.files++;
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
