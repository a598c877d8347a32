/** The no-overlap invariant: no entity holds two buckets of different sizes covering one instant. */
import { sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';
import type { OverlappingBucketsMismatch } from './mismatch.js';

interface Row {
  table_name: OverlappingBucketsMismatch['table'];
  id: unknown;
  bucket_size: BucketSize;
  bucket_start: unknown;
  covered_size: BucketSize;
  covered_start: unknown;
}

/**
 * Finds, among the buckets of `experimentIds` and the session buckets filed under them, every hourly
 * bucket inside a daily or monthly bucket of the same entity and every daily one inside a monthly
 * one. The tables' CHECK constraints keep buckets aligned to whole UTC periods, so these equality
 * lookups (one index probe per bucket) find every overlap. Parameters: experiment ids (bigint[]).
 */
export async function findOverlappingBuckets(
  tx: Executor,
  experimentIds: readonly number[],
): Promise<OverlappingBucketsMismatch[]> {
  const ids = bigintArray(experimentIds);
  const rows = await queryRows<Row>(
    tx,
    sql`
    with e as materialized (
      select experiment_id as id, bucket_size, bucket_start
      from experiment_statistics_buckets where experiment_id = any(${ids}) and bucket_size <> 'month'
    ),
    s as materialized (
      select session_id as id, bucket_size, bucket_start
      from session_statistics_buckets where experiment_id = any(${ids}) and bucket_size <> 'month'
    )
    select 'experiment_statistics_buckets' as table_name, b.id, b.bucket_size, b.bucket_start,
           c.bucket_size as covered_size, c.bucket_start as covered_start
    from e b
    join experiment_statistics_buckets c on c.experiment_id = b.id
      and ((b.bucket_size = 'hour' and c.bucket_size = 'day' and c.bucket_start = date_trunc('day', b.bucket_start, 'UTC'))
        or (c.bucket_size = 'month' and c.bucket_start = date_trunc('month', b.bucket_start, 'UTC')))
    union all
    select 'session_statistics_buckets', b.id, b.bucket_size, b.bucket_start, c.bucket_size, c.bucket_start
    from s b
    join session_statistics_buckets c on c.session_id = b.id
      and ((b.bucket_size = 'hour' and c.bucket_size = 'day' and c.bucket_start = date_trunc('day', b.bucket_start, 'UTC'))
        or (c.bucket_size = 'month' and c.bucket_start = date_trunc('month', b.bucket_start, 'UTC')))
    order by 1, 2, 4, 3`,
  );
  return rows.map((r) => ({
    kind: 'overlapping_buckets',
    table: r.table_name,
    id: toNumber(r.id),
    bucketSize: r.bucket_size,
    bucketStart: (toDate(r.bucket_start) as Date).toISOString(),
    coveredBy: { bucketSize: r.covered_size, bucketStart: (toDate(r.covered_start) as Date).toISOString() },
  }));
}
