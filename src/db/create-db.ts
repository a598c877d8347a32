/** createDb: a drizzle database over a node-postgres pool, with close(). */
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';

/** Connections per process: refresh uses one at a time; reads in a server may use more. */
export const DEFAULT_POOL_SIZE = 10;

export interface CreateDbOptions {
  /** @defaultValue {@link DEFAULT_POOL_SIZE} */
  max?: number;
  /** Name shown in pg_stat_activity. @defaultValue 'statcache' */
  applicationName?: string;
}

export type NodePgStatDb = NodePgDatabase & { $client: pg.Pool; close(): Promise<void> };

/**
 * Opens a pool on `databaseUrl` and returns a drizzle database over it. Nothing connects until the
 * first query. Call `close()` when done.
 */
export function createDb(databaseUrl: string, options: CreateDbOptions = {}): NodePgStatDb {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? DEFAULT_POOL_SIZE,
    application_name: options.applicationName ?? 'statcache',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = drizzle({ client: pool });
  return Object.assign(db, { close: () => pool.end() });
}
