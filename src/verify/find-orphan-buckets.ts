/** Buckets (and totals rows) whose experiment or session no longer exists. */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import type { OrphanBucketsMismatch } from './mismatch.js';

/** Returns one mismatch per vanished experiment or session that still has buckets (or totals). */
export async function findOrphanBuckets(tx: Executor): Promise<OrphanBucketsMismatch[]> {
  const rows = await queryRows<{ table_name: OrphanBucketsMismatch['table']; id: unknown; buckets: unknown }>(
    tx,
    sql`
    select 'experiment_statistics_buckets' as table_name, b.experiment_id as id, count(*) as buckets
    from experiment_statistics_buckets b
    where not exists (select 1 from experiments e where e.id = b.experiment_id)
    group by b.experiment_id
    union all
    select 'session_statistics_buckets', b.session_id, count(*)
    from session_statistics_buckets b
    where not exists (select 1 from experiment_sessions s where s.id = b.session_id)
    group by b.session_id
    union all
    select 'statcache_experiment_totals', t.experiment_id, 1
    from statcache_experiment_totals t
    where not exists (select 1 from experiments e where e.id = t.experiment_id)
    order by 1, 2`,
  );
  return rows.map((r) => ({
    kind: 'orphan_buckets',
    table: r.table_name,
    id: toNumber(r.id),
    buckets: toNumber(r.buckets),
  }));
}
