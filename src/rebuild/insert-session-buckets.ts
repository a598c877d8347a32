/** Session buckets for a batch of experiments, recomputed from source in one statement. */
import { sql } from 'drizzle-orm';
import type { BucketShape } from '../buckets/shape.js';
import { bucketEndSql, bucketSizeSql, bucketStartSql } from '../buckets/shape-sql.js';
import { REPLACE_SESSION_BUCKET, SESSION_BUCKET_COLUMNS } from '../buckets/upsert-sql.js';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';
import { countedExperimentJoin, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Inserts (or overwrites) the buckets of every session of the experiments in `experimentIds`, all
 * platforms included: human messages per bucket and the latest one, read from `source`'s sessions
 * and messages tables. Buckets are hourly, or daily or monthly where `shape` puts the range.
 * Sessions without human messages get no bucket (they read as zero).
 *
 * Parameters: experiment ids (bigint[]), the shape's boundaries. Returns the number of buckets written.
 */
export function insertSessionBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  shape: BucketShape,
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const counted = countedExperimentJoin(source, S);
  const size = bucketSizeSql(sql`h.bucket_start`, shape);
  return execCount(
    tx,
    sql`
    insert into session_statistics_buckets as c ${SESSION_BUCKET_COLUMNS}
    select ${S.teamId}, ${counted.experiment}, ${S.id}, ${S.platform}, ${size}, h.bucket_start, ${bucketEndSql(size, sql`h.bucket_start`)},
           count(*), max(h.created_at), now()
    from ${S.from}
    ${counted.join}
    join ${M.from} on ${M.chatId} = ${S.chatId}
    cross join lateral (select ${bucketStartSql(M.createdAt, shape)} as bucket_start, ${M.createdAt} as created_at) h
    where ${S.experimentId} = any(${withVersionRows(source, bigintArray(experimentIds))})
      and ${M.type} = 'human'
    group by ${S.teamId}, ${counted.experiment}, ${S.id}, ${S.platform}, h.bucket_start
    ${REPLACE_SESSION_BUCKET}`,
  );
}
