/**
 * A mistake the user can fix (bad profile, unknown harness, unreachable target). The CLI prints
 * its message without a stack trace and exits with code 2.
 */
export class UserError extends Error {
  override name = "UserError";
  readonly exitCode = 2;
}

export const isUserError = (e: unknown): e is UserError => e instanceof UserError;
