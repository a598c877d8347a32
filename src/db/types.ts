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

/**
 * Timestamps: PGlite returns Date; drizzle's node-postgres driver returns PostgreSQL's text form
 * ('2026-03-10 05:00:00.5-05', in the session's TimeZone), which is parsed here with its offset so
 * the instant never depends on the TimeZone. Sub-millisecond digits are dropped (JS Dates hold ms).
 */
export function toDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  const match = PG_TIMESTAMPTZ.exec(text);
  if (!match) return new Date(text);
  const [, date, time, fraction = '', sign, hours, minutes = '00'] = match;
  const ms = fraction.slice(0, 3).padEnd(3, '0');
  return new Date(`${date}T${time}.${ms}${sign}${hours}:${minutes}`);
}

const PG_TIMESTAMPTZ =
  /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([+-])(\d{2})(?::(\d{2}))?(?::\d{2})?$/;
