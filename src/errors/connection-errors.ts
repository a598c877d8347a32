/** Turns driver errors that mean "cannot reach the database" into DatabaseUnreachableError. */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { DatabaseUnreachableError, StatcacheError } from './error-classes.js';
import { errorCode, isUnreachableCode } from './error-kind.js';

/** Where a URL points, without its password, for error messages. */
export function describeTarget(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Unwraps drizzle's "Failed query: <sql>" wrapper to the driver's error, then returns a
 * DatabaseUnreachableError for connection failures, or the driver error unchanged.
 */
export function translateConnectionError(error: unknown, databaseUrl: string): unknown {
  // Already statcache's own (translated once deeper down): its cause must not be wrapped again.
  if (error instanceof StatcacheError) return error;
  const driverError = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  const code = errorCode(driverError);
  if (isUnreachableCode(code)) {
    const message = driverError instanceof Error ? driverError.message : '';
    return new DatabaseUnreachableError(describeTarget(databaseUrl), message || String(code), {
      cause: driverError,
    });
  }
  return driverError;
}
