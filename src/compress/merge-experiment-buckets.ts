/** Merges a batch of experiments' fine buckets into coarse ones, in one statement. */
import { sql } from 'drizzle-orm';
import { bucketEndSql } from '../buckets/shape-sql.js';
import { ADD_TO_EXPERIMENT_BUCKET, EXPERIMENT_BUCKET_COLUMNS } from '../buckets/upsert-sql.js';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import type { Merge } from './merge.js';

/**
 * Deletes the `merge.fine` buckets of `experimentIds` that start before `merge.before` (a `coarse`
 * period boundary, so only whole periods qualify) and adds their sums, and the max of
 * last_activity_at, into the `coarse` bucket of their period: created, or added to what it already
 * holds. Delete and insert are one statement, so the totals never change.
 * Served by the unique index (experiment_id, bucket_size, bucket_start).
 * Parameters: experiment ids (bigint[]), fine size, boundary. Returns fine rows merged, coarse rows written.
 */
export async function mergeExperimentBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  merge: Merge,
): Promise<{ merged: number; written: number }> {
  const coarse = sql.raw(`'${merge.coarse}'`);
  const [row] = await queryRows<{ merged: unknown; written: unknown }>(
    tx,
    sql`
    with fine as (
      delete from experiment_statistics_buckets b
      where b.experiment_id = any(${bigintArray(experimentIds)})
        and b.bucket_size = ${merge.fine} and b.bucket_start < ${merge.before.toISOString()}::timestamptz
      returning b.team_id, b.experiment_id, date_trunc(${coarse}, b.bucket_start, 'UTC') as period,
                b.session_count, b.new_participant_count, b.human_message_count, b.last_activity_at
    ),
    written as (
      insert into experiment_statistics_buckets as c ${EXPERIMENT_BUCKET_COLUMNS}
      select max(f.team_id), f.experiment_id, ${coarse}, f.period, ${bucketEndSql(coarse, sql`f.period`)},
             sum(f.session_count), sum(f.new_participant_count), sum(f.human_message_count), max(f.last_activity_at), now()
      from fine f
      group by f.experiment_id, f.period
      ${ADD_TO_EXPERIMENT_BUCKET}
      returning 1
    )
    select (select count(*) from fine) as merged, (select count(*) from written) as written`,
  );
  return { merged: toNumber(row?.merged), written: toNumber(row?.written) };
}
