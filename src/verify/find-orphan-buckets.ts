/** Buckets (and totals rows) whose experiment or session no longer exists. */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { isExperimentRow, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { OrphanBucketsMismatch } from './mismatch.js';

/**
 * Returns one mismatch per vanished experiment or session that still has buckets (or totals), with
 * `source`'s names. Only experiment rows are experiments: buckets or totals filed under an id that
 * is a published-version row (or no row) are orphans.
 */
export async function findOrphanBuckets(
  tx: Executor,
  source: SourceProfile,
): Promise<OrphanBucketsMismatch[]> {
  const E = relationSql(source, 'experiments', 'e');
  const S = relationSql(source, 'sessions', 's');
  const rows = await queryRows<{ table_name: OrphanBucketsMismatch['table']; id: unknown; buckets: unknown }>(
    tx,
    sql`
    select 'experiment_statistics_buckets' as table_name, b.experiment_id as id, count(*) as buckets
    from experiment_statistics_buckets b
    where not exists (select 1 from ${E.from} where ${E.id} = b.experiment_id and ${isExperimentRow(E)})
    group by b.experiment_id
    union all
    select 'session_statistics_buckets', b.session_id, count(*)
    from session_statistics_buckets b
    where not exists (select 1 from ${S.from} where ${S.id} = b.session_id)
    group by b.session_id
    union all
    select 'statcache_experiment_totals', t.experiment_id, 1
    from statcache_experiment_totals t
    where not exists (select 1 from ${E.from} where ${E.id} = t.experiment_id and ${isExperimentRow(E)})
    order by 1, 2`,
  );
  return rows.map((r) => ({
    kind: 'orphan_buckets',
    table: r.table_name,
    id: toNumber(r.id),
    buckets: toNumber(r.buckets),
  }));
}
