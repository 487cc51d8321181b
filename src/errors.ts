/**
 * The one place user-facing failures are classified.
 *
 * A UserError is a mistake the user can fix (bad profile, unknown harness, unreachable target, an
 * output path that cannot be written): the CLI prints its message without a stack trace and exits
 * with code 2. Anything else is a failure of hub or of what it ran: exit 1 with one line of cause,
 * the stack only with `--debug` or `HUB_DEBUG=1`.
 */
export class UserError extends Error {
  override name = "UserError";
  readonly exitCode = 2;
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;

/** File-system error codes that mean "this path cannot be used as given", i.e. the user's to fix. */
const PATH_MISTAKES: Record<string, string> = {
  EISDIR: "is a directory, a file was expected",
  ENOTDIR: "a part of the path is a file, not a directory",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENAMETOOLONG: "name too long (over 255 bytes in one path segment)",
  EEXIST: "already exists",
  ELOOP: "too many symbolic links",
  ENOSPC: "no space left on the device",
};

/**
 * A Node file-system error on a path the user gave (or one derived from it) as a UserError that
 * says which path and what is wrong with it; undefined for anything else.
 */
export function pathMistake(e: unknown): UserError | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err !== "object" || typeof err.code !== "string" || typeof err.path !== "string") return undefined;
  const what = PATH_MISTAKES[err.code];
  if (!what) return undefined;
  const op = err.syscall ? ` (${err.syscall})` : "";
  return new UserError(`${err.path}: ${what}${op}`);
}

/** One line for a failure that is not the user's: the message, without the stack. */
export function oneLine(e: unknown): string {
  if (e instanceof Error) return `${e.name === "Error" ? "" : `${e.name}: `}${e.message.split("\n")[0]}`;
  return String(e);
}

export const debugEnabled = (argv: readonly string[] = process.argv): boolean =>
  argv.includes("--debug") || (process.env.HUB_DEBUG !== undefined && process.env.HUB_DEBUG !== "" && process.env.HUB_DEBUG !== "0");
