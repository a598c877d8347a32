/**
 * Which stored bucket covers an instant. Compression merges whole days and months, so the bucket of
 * an experiment or session that holds an hour is its month bucket if one exists, else its day
 * bucket if one exists, else the hour itself (written hourly if it is new).
 */
import { type SQL, sql } from 'drizzle-orm';

const TABLES = {
  experiment: { table: sql.raw('experiment_statistics_buckets'), id: sql.raw('experiment_id') },
  session: { table: sql.raw('session_statistics_buckets'), id: sql.raw('session_id') },
} as const;

/**
 * A SELECT of (<entity>_id, bucket_size, bucket_start, bucket_end), one row per distinct covering
 * bucket, for the rows of `keys` (a CTE with columns <entity>_id and `hour`, a UTC hour start).
 * Correlated (LATERAL) probes of the bucket table's unique key on purpose: the work stays
 * proportional to the keys, never a scan of the bucket table, whatever the history size.
 */
export function coveringBucketsSql(entity: keyof typeof TABLES, keys: SQL): SQL {
  const { table, id } = TABLES[entity];
  const stored = (size: 'month' | 'day') => sql`
      select b.bucket_start, b.bucket_end from ${table} b
      where b.${id} = k.${id} and b.bucket_size = ${sql.raw(`'${size}'`)}
        and b.bucket_start = date_trunc(${sql.raw(`'${size}'`)}, k.hour, 'UTC')`;
  return sql`
    select distinct k.${id},
           case when bm.bucket_start is not null then 'month' when bd.bucket_start is not null then 'day' else 'hour' end as bucket_size,
           coalesce(bm.bucket_start, bd.bucket_start, k.hour) as bucket_start,
           coalesce(bm.bucket_end, bd.bucket_end, k.hour + interval '1 hour') as bucket_end
    from ${keys} k
    left join lateral (${stored('month')}) bm on true
    left join lateral (${stored('day')}) bd on true`;
}
