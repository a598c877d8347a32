/**
 * Applies statcache's migrations. Safe when several processes run it at once: they queue on one
 * session-level advisory lock, and each applies only what is still missing after it gets the lock.
 * It never invents the platform's tables: the source profile's tables and columns must be there
 * (checked before anything is written), unless `createSourceTables` asks for statcache's demo ones.
 */
import { sql } from 'drizzle-orm';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import pg from 'pg';
import { lockMigrate, unlockMigrate } from '../db/advisory-locks.js';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { SchemaNotMigratedError, SourceMismatchError } from '../errors/error-classes.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { checkSource, describeMismatch } from '../source/check-source.js';
import type { SourceProfile } from '../source/source-profile.js';
import { createDemoTables, installSource } from './install-source.js';
import { expectedMigrations, migrationsFolder } from './migrations-folder.js';
import { DEFAULT_LOCK_POLICY, type LockPolicy, retryOnLock } from './run-steps.js';
import { pendingUpgrades, runUpgrades } from './upgrades.js';

/** Where applied migrations are recorded: our own table, so a platform's own drizzle table is untouched. */
export const MIGRATIONS_TABLE = {
  migrationsSchema: 'public',
  migrationsTable: 'statcache_migrations',
} as const;

export interface MigrateOptions {
  /** The platform's schema to install on. @defaultValue the statcache demo schema */
  source?: SourceProfile;
  /**
   * Create statcache's demo chat tables where they are missing (the demo, the seed's databases, the
   * tests). Only for the statcache profile: a platform's own tables are never created.
   */
  createSourceTables?: boolean;
  /** How long a statement may wait for a lock, and how often to retry. @defaultValue DEFAULT_LOCK_POLICY */
  lockPolicy?: LockPolicy;
}

export interface MigrateResult {
  /** Migrations applied by this call (0 when the database was already up to date). */
  applied: number;
  /** Migrations applied in total now. */
  total: number;
}

/**
 * Applies every pending migration to `db` (a createDb or PGlite database). Throws
 * SourceMismatchError, having written nothing, when the profile's tables or columns are missing.
 */
export async function migrate(db: StatDb, options: MigrateOptions = {}): Promise<MigrateResult> {
  const source = options.source ?? STATCACHE_PROFILE;
  const policy = options.lockPolicy ?? DEFAULT_LOCK_POLICY;
  await assertSourcePresent(db, options);
  const config = { migrationsFolder: migrationsFolder(), ...MIGRATIONS_TABLE };
  const client = (db as { $client?: unknown }).$client;
  if (client instanceof pg.Pool) {
    // Hold the lock and migrate on one dedicated connection so the lock covers exactly this work.
    const conn = await client.connect();
    try {
      const onConn = drizzleNodePg({ client: conn }) as unknown as StatDb;
      await onConn.execute(lockMigrate());
      try {
        const before = await appliedCount(onConn);
        if (options.createSourceTables) await createDemoTables(onConn, source);
        // The platform indexes first (isIndexStep says why), then statcache's own tables only, in one transaction, under the same lock_timeout as the rest.
        await installSource(onConn, source, policy, 'indexes');
        await retryOnLock(
          onConn,
          policy,
          { table: 'statcache_migrations', step: 'the pending migrations' },
          () => migrateNodePg(onConn as unknown as Parameters<typeof migrateNodePg>[0], config),
        );
        await runUpgrades(onConn, policy);
        await installSource(onConn, source, policy);
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
  if (options.createSourceTables) await createDemoTables(db, source);
  await installSource(db, source, policy, 'indexes');
  await migratePglite(db as unknown as PgliteDatabase, config);
  await runUpgrades(db, policy);
  await installSource(db, source, policy);
  const after = await appliedCount(db);
  return { applied: after - before, total: after };
}

/** The source tables must exist, unless the caller asked for a built-in profile's demo tables. */
async function assertSourcePresent(db: StatDb, options: MigrateOptions): Promise<void> {
  const source = options.source ?? STATCACHE_PROFILE;
  // createDemoTables checks what it may create, under the migrate lock.
  if (options.createSourceTables) return;
  const check = await checkSource(db, source);
  if (!check.ok) throw new SourceMismatchError(source.name, describeMismatch(check));
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
export async function schemaStatus(
  db: StatDb,
): Promise<{ applied: number; expected: number; pendingUpgrades: string[] }> {
  return {
    applied: await appliedCount(db),
    expected: expectedMigrations().length,
    pendingUpgrades: await pendingUpgrades(db),
  };
}

/** Throws SchemaNotMigratedError unless every migration is applied and every batched upgrade done. */
export async function assertMigrated(db: StatDb): Promise<void> {
  const { applied, expected, pendingUpgrades: pending } = await schemaStatus(db);
  if (applied < expected || pending.length > 0) throw new SchemaNotMigratedError(applied, expected, pending);
}
