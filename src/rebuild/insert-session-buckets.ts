/** Session buckets for a batch of experiments, recomputed from source in one statement. */
import { sql } from 'drizzle-orm';
import type { BucketShape } from '../buckets/shape.js';
import { bucketEndSql, bucketSizeSql, bucketStartSql } from '../buckets/shape-sql.js';
import { REPLACE_SESSION_BUCKET, SESSION_BUCKET_COLUMNS } from '../buckets/upsert-sql.js';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';

/**
 * Inserts (or overwrites) the buckets of every session of the experiments in `experimentIds`, all
 * platforms included: human messages per bucket and the latest one. Buckets are hourly, or daily or
 * monthly where `shape` puts the range.
 * Sessions without human messages get no bucket (they read as zero).
 *
 * Parameters: experiment ids (bigint[]), the shape's boundaries. Returns the number of buckets written.
 */
export function insertSessionBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  shape: BucketShape,
): Promise<number> {
  const size = bucketSizeSql(sql`h.bucket_start`, shape);
  return execCount(
    tx,
    sql`
    insert into session_statistics_buckets as c ${SESSION_BUCKET_COLUMNS}
    select s.team_id, s.experiment_id, s.id, s.platform, ${size}, h.bucket_start, ${bucketEndSql(size, sql`h.bucket_start`)},
           count(*), max(h.created_at), now()
    from experiment_sessions s
    join chat_messages m on m.chat_id = s.chat_id
    cross join lateral (select ${bucketStartSql(sql`m.created_at`, shape)} as bucket_start, m.created_at) h
    where s.experiment_id = any(${bigintArray(experimentIds)})
      and m.message_type = 'human'
    group by s.team_id, s.experiment_id, s.id, s.platform, h.bucket_start
    ${REPLACE_SESSION_BUCKET}`,
  );
}
