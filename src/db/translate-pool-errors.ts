/**
 * A pool whose statements fail naming where it connects: connection failures come out of its
 * `query` as DatabaseUnreachableError naming the variable and host:port. For a second pool (the read
 * replica, DATABASE_READ_URL), whose failures would otherwise be reported as DATABASE_URL's.
 */
import type pg from 'pg';
import { translateConnectionError } from '../errors/connection-errors.js';

export interface PoolTarget {
  /** The URL the pool connects to (only host:port/database appear in messages). */
  url: string;
  /** The environment variable it came from, e.g. DATABASE_READ_URL. */
  variable: string;
  /** The connect timeout in force, named when it is what ran out. */
  connectTimeoutMs: number;
}

/**
 * Translates the connection failures of `pool.query` (every statement drizzle and the read helpers
 * run outside a transaction) against `target`; other errors pass through unchanged. A transaction's
 * statements (on a client from `pool.connect()`) are not translated here.
 */
export function translatePoolErrors(pool: pg.Pool, target: PoolTarget): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const translated = (...args: unknown[]): unknown => {
    // The callback form (neither drizzle nor readRows uses it) is left as pg answers it.
    if (typeof args[args.length - 1] === 'function') return query(...args);
    return (query(...args) as Promise<unknown>).catch((error: unknown) => {
      throw translateConnectionError(error, target.url, target.connectTimeoutMs, target.variable);
    });
  };
  Object.assign(pool, { query: translated });
}
