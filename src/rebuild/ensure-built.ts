/** The first full build of a cache, run once however many processes ask for it at the same time. */
import { lockFirstBuild } from '../db/advisory-locks.js';
import type { StatDb } from '../db/types.js';
import { fullBuildRecorded } from '../runs/refresh-runs.js';
import { type RefreshFullOptions, type RefreshResult, refreshFull } from './refresh-full.js';

/**
 * Runs a full rebuild if no unscoped full rebuild was ever recorded, holding a transaction-level
 * advisory lock while it runs: a second process waits, then finds the cache built and returns
 * null. Needs a pool of at least two connections (the lock holds one). `options` (its `source`
 * profile included) go to refreshFull as given.
 */
export async function ensureBuilt(db: StatDb, options: RefreshFullOptions): Promise<RefreshResult | null> {
  return db.transaction(async (tx) => {
    await tx.execute(lockFirstBuild());
    if (await fullBuildRecorded(tx)) return null;
    return refreshFull(db, options);
  });
}
