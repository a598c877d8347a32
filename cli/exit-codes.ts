/**
 * Exit codes: 0 ok, 1 failure or mismatch, 2 bad usage (options, ids, dates, configuration). Which
 * errors are bad usage is decided by src/errors/error-kind.ts.
 */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Sets the code the process exits with once the event loop is empty (open handles are closed first). */
export function setExitCode(code: number): void {
  process.exitCode = code;
}
