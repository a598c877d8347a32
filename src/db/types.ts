/**
 * The database handle every library function takes: any drizzle PostgreSQL database (node-postgres
 * from createDb, an app's own drizzle db, or PGlite for the demo), or a transaction on one.
 */
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';

// biome-ignore lint/suspicious/noExplicitAny: any drizzle schema is accepted; statcache only runs SQL.
export type StatDb = PgDatabase<PgQueryResultHKT, any>;

/** Something that can run a statement: a database or an open transaction on it. */
export type Executor = Pick<StatDb, 'execute'>;

/** Runs one statement and returns its rows (node-postgres and PGlite both answer `{ rows }`). */
export async function queryRows<T>(db: Executor, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Runs one statement and returns the number of rows it wrote. */
export async function execCount(db: Executor, query: SQL): Promise<number> {
  const result = (await db.execute(query)) as unknown as { rowCount?: number | null; affectedRows?: number };
  return result.rowCount ?? result.affectedRows ?? 0;
}

/** pg returns bigint and numeric as strings, PGlite as bigint or number: map once, here. */
export function toNumber(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return Number(value);
}

/** Timestamps come back as Date from both drivers; null stays null. */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value : new Date(String(value));
}
