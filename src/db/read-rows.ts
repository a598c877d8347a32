/**
 * How the read helpers run their one statement: on a node-postgres pool, as a named prepared
 * statement (named after a hash of its text), so each connection plans it once and then reuses the
 * plan, instead of planning its CTEs (the freshness, the fresh recount, the live fallback) on every
 * page; elsewhere (PGlite, a transaction, a pool created with `preparedReads: false`, e.g. behind
 * PgBouncer in transaction mode before 1.21) as a plain statement. Rows come back as drizzle's
 * node-postgres driver returns them (timestamps as text, for toDate), and errors as it throws them
 * (a DrizzleQueryError with the driver's error as its cause).
 */
import { createHash } from 'node:crypto';
import type { SQL } from 'drizzle-orm';
import { DrizzleQueryError } from 'drizzle-orm/errors';
import { PgDialect } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { type Executor, queryRows } from './types.js';

const dialect = new PgDialect();
/** Pools whose statements must not be prepared (createDb's `preparedReads: false`). */
const UNPREPARED = new WeakSet<pg.Pool>();

export function disablePreparedReads(pool: pg.Pool): void {
  UNPREPARED.add(pool);
}

const TEXT_TYPES = new Set<number>([
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.DATE,
  pg.types.builtins.INTERVAL,
]);
const types = {
  getTypeParser: (typeId: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(typeId) ? (value: string) => value : pg.types.getTypeParser(typeId, format),
};

/** Runs one read statement and returns its rows. */
export async function readRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const client = (db as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool) || UNPREPARED.has(client)) return queryRows<T>(db, query);
  const { sql: text, params } = dialect.sqlToQuery(query);
  const name = `statcache_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
  try {
    // biome-ignore lint/suspicious/noExplicitAny: pg's QueryConfig types `types` loosely.
    const result = await client.query<T & pg.QueryResultRow>({ name, text, values: params, types } as any);
    return result.rows as T[];
  } catch (error) {
    // Wrapped as drizzle wraps a driver error, so every caller sees one shape (the cause holds it).
    throw new DrizzleQueryError(text, params, error as Error);
  }
}
