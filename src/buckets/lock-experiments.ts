/** Serializes refreshes per experiment (see statcache_lock_experiments in drizzle/0003). */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import type { Executor } from '../db/types.js';

/**
 * Takes the transaction-level advisory locks of `experimentIds`, in ascending slot order, so that no
 * two transactions recompute the same experiment's buckets at once and two refreshes never
 * deadlock. Call it before reading anything the recomputation depends on.
 */
export async function lockExperiments(tx: Executor, experimentIds: readonly number[]): Promise<void> {
  if (experimentIds.length === 0) return;
  await tx.execute(sql`select statcache_lock_experiments(${bigintArray(experimentIds)})`);
}
