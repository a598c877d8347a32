/** Puts the cache back to empty so each timed rebuild starts from the same state. */
import { sql } from 'drizzle-orm';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { quoted } from '../src/source/quoted.js';
import { relationSql } from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';

/**
 * Empties buckets, participant firsts, the versions cache, the change queue and the record of past
 * refreshes (so every rebuild is a first build, as after `migrate`); vacuums.
 */
export async function resetCache(db: NodePgStatDb, source: SourceProfile): Promise<void> {
  const S = relationSql(source, 'sessions', 's');
  await db.execute(sql`truncate experiment_statistics_buckets, session_statistics_buckets,
                       statcache_experiment_participants, statcache_experiment_totals, statcache_changes,
                       statcache_refresh_runs, statcache_refresh_state`);
  await db.execute(sql`update ${S.from} set ${quoted(source.sessions.versionsCache)} = '{}'
                       where ${S.versionsCache} <> '{}'`);
  await db.execute(sql`vacuum analyze ${S.table}, experiment_statistics_buckets, session_statistics_buckets,
                       statcache_experiment_participants`);
}
