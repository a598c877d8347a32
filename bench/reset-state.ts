/** Puts the cache back to empty so each timed rebuild starts from the same state. */
import { sql } from 'drizzle-orm';
import type { NodePgStatDb } from '../src/db/create-db.js';

/** Empties buckets, participant firsts, the versions cache and the change queue; vacuums. */
export async function resetCache(db: NodePgStatDb): Promise<void> {
  await db.execute(sql`truncate experiment_statistics_buckets, session_statistics_buckets,
                       statcache_experiment_participants, statcache_experiment_totals, statcache_changes`);
  await db.execute(sql`update experiment_sessions set cached_experiment_versions = '{}'
                       where cached_experiment_versions <> '{}'`);
  await db.execute(sql`vacuum analyze experiment_sessions, experiment_statistics_buckets, session_statistics_buckets,
                       statcache_experiment_participants`);
}
