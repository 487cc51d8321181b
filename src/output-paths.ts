import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { pathMistake, UserError } from "./errors.ts";

/**
 * Output paths the user names (`--out`): checked before any work, so a typo costs a message, not
 * a finished benchmark, and every problem says which flag and what is allowed.
 */

const kindOf = (path: string, flag: string, shown: string): "file" | "dir" | "other" | "missing" => {
  try {
    const st = statSync(path);
    return st.isDirectory() ? "dir" : st.isFile() ? "file" : "other";
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    const m = pathMistake(e);
    throw m ? new UserError(`${flag} ${shown}: ${m.message}`) : e;
  }
};

/** A directory to write into: created if missing; a file or an unwritable place is refused. */
export function ensureOutputDir(path: string, flag: string): string {
  const dir = resolve(path);
  const kind = kindOf(dir, flag, path);
  if (kind === "file" || kind === "other") throw new UserError(`${flag} ${path}: is a file; ${flag} names a directory`);
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    const m = pathMistake(e);
    throw m ? new UserError(`${flag} ${path}: cannot be used as a directory: ${m.message}`) : e;
  }
  return dir;
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdirSync never returns for a path under /proc,
 * where mkdir answers ENOENT for ever.
 */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) mkdirSync(d);
}

/** A file to write: its folder is created; a directory in its place is refused. */
export function writeOutputFile(path: string, text: string, flag: string): void {
  const file = resolve(path);
  if (kindOf(file, flag, path) === "dir") throw new UserError(`${flag} ${path}: is a directory; ${flag} names a file`);
  ensureOutputDir(dirname(file), `${flag} (its folder)`);
  try {
    writeFileSync(file, text);
  } catch (e) {
    const m = pathMistake(e);
    throw m ? new UserError(`${flag} ${path}: cannot be written: ${m.message}`) : e;
  }
}
