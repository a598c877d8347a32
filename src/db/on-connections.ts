/**
 * Runs work on up to `count` connections of its own at once (lanes), the first one for the whole
 * run's session-level state (locks, bookkeeping). A node-postgres pool lends the first as usual
 * (waiting for one if all are busy) and each further one only if it has one to spare right away:
 * the caller may itself hold connections of the same pool (a transaction around the run), which
 * waiting for would never come back. A single-connection database (PGlite, a drizzle database on
 * one client) is one lane.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { StatDb } from './types.js';

export async function onConnections<T>(
  db: StatDb,
  count: number,
  fn: (lanes: readonly StatDb[]) => Promise<T>,
): Promise<T> {
  const pool = (db as { $client?: unknown }).$client;
  if (!(pool instanceof pg.Pool)) return fn([db]);
  const size = pool.options.max ?? 10;
  const spare = () => pool.idleCount > 0 || pool.totalCount < size;
  const clients: pg.PoolClient[] = [];
  try {
    clients.push(await pool.connect());
    while (clients.length < count && spare()) clients.push(await pool.connect());
    return await fn(clients.map((client) => drizzle({ client }) as unknown as StatDb));
  } finally {
    for (const client of clients) client.release();
  }
}
