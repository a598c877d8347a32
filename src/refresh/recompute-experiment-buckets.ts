/** Recomputes the experiment buckets holding given instants, from source, at a cost per bucket. */
import { type SQL, sql } from 'drizzle-orm';
import { coveringBucketsSql } from '../buckets/covering-bucket-sql.js';
import { EXPERIMENT_BUCKET_COLUMNS, REPLACE_EXPERIMENT_BUCKET } from '../buckets/upsert-sql.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import type { SourceProfile } from '../source/source-profile.js';
import { CLAIMED } from './claim-changes.js';
import { experimentBucketCountsSql, PENDING_SESSIONS } from './experiment-bucket-counts-sql.js';
import { TOTALS_DELTA_CTES } from './totals-delta-sql.js';

/**
 * The claimed (experiment, hour) keys to recount: `message_hour` and `experiment_hour` keys
 * (including those earlier steps of the batch added) of experiments not rebuilt whole.
 */
function claimedExperimentHours(wholeExperiments: readonly number[]): SQL {
  return sql`
      select distinct c.experiment_id, date_trunc('hour', c.at, 'UTC') as hour
      from ${CLAIMED} c
      where c.kind in ('message_hour', 'experiment_hour') and c.experiment_id is not null and c.at is not null
        and c.experiment_id <> all(${bigintArray(wholeExperiments)})`;
}

/**
 * Recounts, for each claimed (experiment, instant) of an experiment not rebuilt whole, the
 * experiment's bucket covering that instant (coveringBucketsSql) from source
 * (experimentBucketCountsSql, whose cost is per bucket, not per history). Buckets left with nothing
 * to count (or whose experiment is gone) are deleted, and the experiments' totals move by what their
 * buckets moved by (TOTALS_DELTA_CTES). One statement. Returns buckets written plus deleted.
 * Parameters: whole experiments (bigint[]), then excluded platforms (text[]) at each use.
 */
export async function recomputeExperimentBuckets(
  tx: Executor,
  wholeExperiments: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<number> {
  const [row] = await queryRows<{ written: unknown; deleted: unknown }>(
    tx,
    sql`
    with pending_sessions as materialized (${PENDING_SESSIONS}),
    keys as (${claimedExperimentHours(wholeExperiments)}),
    targets as (${coveringBucketsSql('experiment', sql`keys`)}),
    -- Materialized so the session and participant counts run once per bucket.
    computed as materialized (${experimentBucketCountsSql(textArray(excludedPlatforms), source)}),
    nonzero as (
      select * from computed where sessions > 0 or participants > 0 or messages > 0
    ),
    written as (
      insert into experiment_statistics_buckets as c ${EXPERIMENT_BUCKET_COLUMNS}
      select team_id, experiment_id, bucket_size, bucket_start, bucket_end, sessions, participants, messages, last_at, now()
      from nonzero
      ${REPLACE_EXPERIMENT_BUCKET}
      returning 1
    ),
    deleted as (
      delete from experiment_statistics_buckets b
      using targets t
      where b.experiment_id = t.experiment_id and b.bucket_size = t.bucket_size and b.bucket_start = t.bucket_start
        and not exists (select 1 from nonzero z
                        where z.experiment_id = t.experiment_id and z.bucket_size = t.bucket_size and z.bucket_start = t.bucket_start)
      returning 1
    ),
    ${TOTALS_DELTA_CTES}
    select (select count(*) from written) as written, (select count(*) from deleted) as deleted`,
  );
  return toNumber(row?.written) + toNumber(row?.deleted);
}

/**
 * Instead of recounting now, queues one `experiment_hour` change per experiment key of the batch
 * (written in the batch's transaction, so nothing is lost if the run stops here). A run recounts
 * these once, after all its batches: a busy hour touched by every batch is recounted once per run,
 * not once per batch. Parameters: whole experiments (bigint[]). Returns keys queued.
 */
export async function deferExperimentBuckets(
  tx: Executor,
  wholeExperiments: readonly number[],
): Promise<number> {
  const [row] = await queryRows<{ queued: unknown }>(
    tx,
    sql`
    with queued as (
      insert into statcache_changes (kind, experiment_id, at)
      select 'experiment_hour', experiment_id, hour from (${claimedExperimentHours(wholeExperiments)}) k
      returning 1
    )
    select count(*) as queued from queued`,
  );
  return toNumber(row?.queued);
}
