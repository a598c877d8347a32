/**
 * Runs work on one connection of its own: a session-level lock or a temp table then covers exactly
 * that work. A node-postgres pool lends one of its connections for the duration; PGlite (and a
 * drizzle database on a single client) already is one connection.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { StatDb } from './types.js';

export async function onOneConnection<T>(db: StatDb, fn: (conn: StatDb) => Promise<T>): Promise<T> {
  const client = (db as { $client?: unknown }).$client;
  if (!(client instanceof pg.Pool)) return fn(db);
  const conn = await client.connect();
  try {
    return await fn(drizzle({ client: conn }) as unknown as StatDb);
  } finally {
    conn.release();
  }
}
