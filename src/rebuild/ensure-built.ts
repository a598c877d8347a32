/** The first full build of a cache, run once however many processes ask for it at the same time. */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb } from '../db/types.js';
import { type RefreshFullOptions, type RefreshResult, refreshFull } from './refresh-full.js';

/** Advisory lock key (any constant distinct from statcache's per-experiment locks). */
const FIRST_BUILD_LOCK = 7_302_417_001;

/**
 * Runs a full rebuild if no unscoped full rebuild was ever recorded, holding a transaction-level
 * advisory lock while it runs: a second process waits, then finds the cache built and returns
 * null. Needs a pool of at least two connections (the lock holds one).
 */
export async function ensureBuilt(db: StatDb, options: RefreshFullOptions): Promise<RefreshResult | null> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${FIRST_BUILD_LOCK})`);
    const [row] = await queryRows<{ built: boolean }>(
      tx,
      sql`select exists (select 1 from statcache_refresh_runs where mode = 'full' and experiment_ids is null) as built`,
    );
    if (row?.built) return null;
    return refreshFull(db, options);
  });
}
