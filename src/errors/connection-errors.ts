/** Turns driver errors that mean "cannot reach the database" into DatabaseUnreachableError. */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { DatabaseUnreachableError, StatcacheError, StatementTimeoutError } from './error-classes.js';
import { connectionFailureReason, errorCode, isUnreachableCode } from './error-kind.js';

/** Where a URL points, without its password, for error messages (`variable` if it does not parse). */
export function describeTarget(databaseUrl: string, variable = 'DATABASE_URL'): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return variable;
  }
}

/**
 * Unwraps drizzle's "Failed query: <sql>" wrapper to the driver's error, then returns a
 * DatabaseUnreachableError for connection failures, or the driver error unchanged.
 */
export function translateConnectionError(
  error: unknown,
  databaseUrl: string,
  /** The connect timeout in force, named in the message when it is what ran out. */
  connectTimeoutMs?: number,
  /** The variable `databaseUrl` came from, named in the message. @defaultValue 'DATABASE_URL' */
  variable = 'DATABASE_URL',
): unknown {
  // Already statcache's own (translated once deeper down): its cause must not be wrapped again.
  if (error instanceof StatcacheError) return error;
  const driverError = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  // A pool that translates its own failures (createDb's `urlVariable`) hands drizzle a translated one.
  if (driverError instanceof StatcacheError) return driverError;
  const target = describeTarget(databaseUrl, variable);
  const code = errorCode(driverError);
  if (isUnreachableCode(code)) {
    const message = driverError instanceof Error ? driverError.message : '';
    return new DatabaseUnreachableError(target, message || String(code), { cause: driverError, variable });
  }
  const reason = connectionFailureReason(driverError);
  if (reason !== undefined)
    return new DatabaseUnreachableError(
      target,
      reason.endsWith('connect timeout') && connectTimeoutMs !== undefined
        ? `no answer within ${connectTimeoutMs} ms; STATCACHE_PG_CONNECT_TIMEOUT_MS sets the wait`
        : reason,
      { cause: driverError, variable },
    );
  return driverError;
}

/** query_canceled: PostgreSQL cancelled the statement (statement_timeout, or a cancel request). */
const QUERY_CANCELED = '57014';

/**
 * Returns a StatementTimeoutError naming the limit and its variable when `error` is PostgreSQL
 * cancelling a statement for statement_timeout, or `error` unchanged.
 */
export function translateStatementTimeout(
  error: unknown,
  limit: { timeoutMs: number; variable: string },
): unknown {
  if (error instanceof StatcacheError) return error;
  const driverError = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  if (
    errorCode(driverError) === QUERY_CANCELED &&
    driverError instanceof Error &&
    /statement timeout/.test(driverError.message)
  )
    return new StatementTimeoutError(limit.timeoutMs, limit.variable, { cause: driverError });
  return error;
}
