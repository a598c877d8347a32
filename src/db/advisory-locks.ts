/**
 * Every advisory lock statcache takes, declared once with its reason. Keys are pairs of int4
 * (pg_advisory_lock(int, int)); the first half, 'stat' in ASCII, keeps them apart from any lock a
 * platform's own code takes with one bigint key or another first half.
 */
import { type SQL, sql } from 'drizzle-orm';

/** 'stat' in ASCII: the first half of every statcache advisory lock key. */
export const LOCK_SPACE = 1937006964;

/**
 * Experiments share this many lock slots (experiment id % slots, second half 0..1023), so a batch
 * of thousands of experiments holds at most this many locks. Taken, in ascending slot order so two
 * refreshes never deadlock, by statcache_lock_experiments() in drizzle/0003 (which spells these two
 * numbers; test/advisory-locks.test.ts checks that it matches).
 */
export const EXPERIMENT_LOCK_SLOTS = 1024;

/**
 * `statcache migrate`: one process at a time applies migrations (session-level, held on the
 * connection that migrates). Second half 'migr' in ASCII, outside the experiment slots.
 */
const MIGRATE_KEY = 1_835_624_306;

/**
 * The first full build of a cache: many workers starting on a database that was never built run
 * it once; the others wait, then find it built (transaction-level). Second half 'bild' in ASCII.
 */
const FIRST_BUILD_KEY = 1_651_076_196;

/** Blocks until this session holds the migrate lock. */
export const lockMigrate = (): SQL =>
  sql`select pg_advisory_lock(${sql.raw(String(LOCK_SPACE))}, ${sql.raw(String(MIGRATE_KEY))})`;
/** Releases the migrate lock. */
export const unlockMigrate = (): SQL =>
  sql`select pg_advisory_unlock(${sql.raw(String(LOCK_SPACE))}, ${sql.raw(String(MIGRATE_KEY))})`;
/** Blocks until this transaction holds the first-build lock. */
export const lockFirstBuild = (): SQL =>
  sql`select pg_advisory_xact_lock(${sql.raw(String(LOCK_SPACE))}, ${sql.raw(String(FIRST_BUILD_KEY))})`;

/**
 * An unscoped full rebuild: one at a time uses statcache_rebuild_versions (session-level, held on
 * the rebuild's own connection for the whole run; a second waits). Second half 'rver' in ASCII.
 */
const REBUILD_VERSIONS_KEY = 1_920_361_842;

/** Blocks until this session holds the rebuild lock. */
export const lockRebuild = (): SQL =>
  sql`select pg_advisory_lock(${sql.raw(String(LOCK_SPACE))}, ${sql.raw(String(REBUILD_VERSIONS_KEY))})`;
/** Releases the rebuild lock. */
export const unlockRebuild = (): SQL =>
  sql`select pg_advisory_unlock(${sql.raw(String(LOCK_SPACE))}, ${sql.raw(String(REBUILD_VERSIONS_KEY))})`;
