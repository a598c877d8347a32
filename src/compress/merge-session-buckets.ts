/** Merges the fine session buckets of a batch of experiments into coarse ones, in one statement. */
import { sql } from 'drizzle-orm';
import { bucketEndSql } from '../buckets/shape-sql.js';
import { ADD_TO_SESSION_BUCKET, SESSION_BUCKET_COLUMNS } from '../buckets/upsert-sql.js';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import type { Merge } from './merge.js';

/**
 * As mergeExperimentBuckets, for the session buckets filed under `experimentIds`. A session's
 * buckets filed under another experiment merge in that experiment's batch, into the same coarse
 * bucket (sums add up whichever batch comes first).
 * Served by the index (experiment_id, bucket_size, bucket_start) and the unique (session_id, bucket_size, bucket_start).
 * Parameters: experiment ids (bigint[]), fine size, boundary. Returns fine rows merged, coarse rows written.
 */
export async function mergeSessionBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  merge: Merge,
): Promise<{ merged: number; written: number }> {
  const coarse = sql.raw(`'${merge.coarse}'`);
  const [row] = await queryRows<{ merged: unknown; written: unknown }>(
    tx,
    sql`
    with fine as (
      delete from session_statistics_buckets b
      where b.experiment_id = any(${bigintArray(experimentIds)})
        and b.bucket_size = ${merge.fine} and b.bucket_start < ${merge.before.toISOString()}::timestamptz
      returning b.team_id, b.experiment_id, b.session_id, b.platform, date_trunc(${coarse}, b.bucket_start, 'UTC') as period,
                b.human_message_count, b.last_activity_at
    ),
    written as (
      insert into session_statistics_buckets as c ${SESSION_BUCKET_COLUMNS}
      select max(f.team_id), max(f.experiment_id), f.session_id, max(f.platform), ${coarse}, f.period, ${bucketEndSql(coarse, sql`f.period`)},
             sum(f.human_message_count), max(f.last_activity_at), now()
      from fine f
      group by f.session_id, f.period
      ${ADD_TO_SESSION_BUCKET}
      returning 1
    )
    select (select count(*) from fine) as merged, (select count(*) from written) as written`,
  );
  return { merged: toNumber(row?.merged), written: toNumber(row?.written) };
}
