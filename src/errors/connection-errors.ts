/** Turns driver errors that mean "cannot reach the database" into DatabaseUnreachableError. */
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { DatabaseUnreachableError, StatcacheError } from './error-classes.js';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);
// invalid_authorization_specification, invalid_password, invalid_catalog_name, cannot_connect_now
const CONNECT_SQLSTATES = new Set(['28000', '28P01', '3D000', '57P03']);

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
  const code = findCode(driverError);
  if (code && (NETWORK_CODES.has(code) || CONNECT_SQLSTATES.has(code))) {
    const message = driverError instanceof Error ? driverError.message : '';
    return new DatabaseUnreachableError(describeTarget(databaseUrl), message || code, { cause: driverError });
  }
  return driverError;
}

function findCode(error: unknown): string | undefined {
  // drizzle wraps driver errors; AggregateError (IPv4 + IPv6 attempts) holds them in `errors`.
  for (let e: unknown = error, depth = 0; e && depth < 5; depth++) {
    const candidate = e as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof candidate.code === 'string') return candidate.code;
    if (Array.isArray(candidate.errors) && candidate.errors.length > 0) e = candidate.errors[0];
    else e = candidate.cause;
  }
  return undefined;
}
