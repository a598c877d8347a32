/**
 * Applies statcache's migrations. Safe when several processes run it at once: they queue on one
 * session-level advisory lock, and each applies only what is still missing after it gets the lock.
 */
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { lockMigrate, unlockMigrate } from './advisory-locks.js';
import { expectedMigrations, migrationsFolder } from './migrations-folder.js';
import { queryRows, type StatDb, toNumber } from './types.js';

/** Where applied migrations are recorded: our own table, so a platform's own drizzle table is untouched. */
export const MIGRATIONS_TABLE = {
  migrationsSchema: 'public',
  migrationsTable: 'statcache_migrations',
} as const;

export interface MigrateResult {
  /** Migrations applied by this call (0 when the database was already up to date). */
  applied: number;
  /** Migrations applied in total now. */
  total: number;
}

/** Applies every pending migration to `db` (a createDb or PGlite database). */
export async function migrate(db: StatDb): Promise<MigrateResult> {
  const config = { migrationsFolder: migrationsFolder(), ...MIGRATIONS_TABLE };
  const client = (db as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) {
    // Hold the lock and migrate on one dedicated connection so the lock covers exactly this work.
    const conn = await client.connect();
    try {
      const onConn = drizzleNodePg({ client: conn });
      await onConn.execute(lockMigrate());
      try {
        const before = await appliedCount(onConn);
        await migrateNodePg(onConn, config);
        const after = await appliedCount(onConn);
        return { applied: after - before, total: after };
      } finally {
        await onConn.execute(unlockMigrate());
      }
    } finally {
      conn.release();
    }
  }
  // PGlite is one connection in one process: nothing to race with.
  const before = await appliedCount(db);
  await migratePglite(db as unknown as PgliteDatabase, config);
  const after = await appliedCount(db);
  return { applied: after - before, total: after };
}

/** Number of statcache migrations recorded in the database (0 when never migrated). */
export async function appliedCount(db: Pick<StatDb, 'execute'>): Promise<number> {
  const [exists] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass('public.statcache_migrations') is not null as present`,
  );
  if (!exists?.present) return 0;
  const [row] = await queryRows<{ n: unknown }>(
    db,
    sql`select count(*) as n from public.statcache_migrations`,
  );
  return toNumber(row?.n);
}

/** Whether every migration this version expects has been applied. */
export async function schemaStatus(db: StatDb): Promise<{ applied: number; expected: number }> {
  return { applied: await appliedCount(db), expected: expectedMigrations().length };
}
