/** Experiment buckets for a batch of experiments, recomputed from source in one statement. */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketShape } from '../buckets/shape.js';
import { bucketEndSql, bucketSizeSql, bucketStartSql } from '../buckets/shape-sql.js';
import {
  EXPERIMENT_BUCKET_COLUMNS,
  EXPERIMENT_TOTALS_COLUMNS,
  REPLACE_EXPERIMENT_BUCKET,
  REPLACE_EXPERIMENT_TOTALS,
} from '../buckets/upsert-sql.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import {
  countedExperimentJoin,
  experimentRowsOf,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Inserts (or overwrites) the buckets of every experiment in `experimentIds`, computed from the
 * platform's tables as `source` names them (sessions, messages, experiments): hourly, or
 * daily/monthly where `shape` says the policy has compressed the range, so a rebuild of old history
 * never writes its hours first. Callers delete the scope's old buckets first, in the same
 * transaction, so buckets that no longer have source rows disappear.
 *
 * Parameters: experiment ids (bigint[]), excluded platforms (text[]), the shape's boundaries.
 * Counted sessions are those of the batch whose platform is not excluded (a NULL platform counts).
 * Three rollups are unioned and summed per (experiment, bucket):
 *   sessions by created_at; participants by their first counted session with the experiment;
 *   human messages of counted sessions by message created_at, with the latest as last activity.
 * The scope's totals (statcache_experiment_totals) are written from the same rows in the same
 * statement: the caller deleted the scope's buckets and totals, so what is written here is all of them.
 * Returns the number of buckets written.
 */
export async function insertExperimentBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  shape: BucketShape,
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const E = relationSql(source, 'experiments', 'e');
  const counted = countedExperimentJoin(source, S);
  const start = (ts: SQL) => bucketStartSql(ts, shape);
  const size = bucketSizeSql(sql`r.bucket_start`, shape);
  const [row] = await queryRows<{ written: unknown }>(
    tx,
    sql`
    with written as (
    insert into experiment_statistics_buckets as c ${EXPERIMENT_BUCKET_COLUMNS}
    with counted_sessions as materialized (
      select ${counted.experiment} as experiment_id, ${S.participantId} as participant_id,
             ${S.chatId} as chat_id, ${S.createdAt} as created_at
      from ${S.from} ${counted.join}
      -- Only experiments of their own count sessions (a session on a version of a version counts in none).
      where ${S.experimentId} = any(${withVersionRows(source, experimentRowsOf(source, bigintArray(experimentIds)))})
        and ${platformCounted(S.platform, textArray(excludedPlatforms))}
    ),
    rollup as (
      select experiment_id, ${start(sql`created_at`)} as bucket_start,
             count(*) as sessions, 0::bigint as participants, 0::bigint as messages,
             null::timestamptz as last_at
      from counted_sessions
      group by 1, 2
      union all
      select experiment_id, ${start(sql`first_at`)}, 0, count(*), 0, null
      from (
        select experiment_id, participant_id, min(created_at) as first_at
        from counted_sessions
        where participant_id is not null
        group by 1, 2
      ) first_sessions
      group by 1, 2
      union all
      select cs.experiment_id, ${start(M.createdAt)}, 0, 0, count(*), max(${M.createdAt})
      from counted_sessions cs
      join ${M.from} on ${M.chatId} = cs.chat_id
      where ${M.type} = 'human'
      group by 1, 2
    )
    select ${E.teamId}, r.experiment_id, ${size}, r.bucket_start, ${bucketEndSql(size, sql`r.bucket_start`)},
           sum(r.sessions), sum(r.participants), sum(r.messages), max(r.last_at), now()
    from rollup r
    join ${E.from} on ${E.id} = r.experiment_id
    group by ${E.teamId}, r.experiment_id, r.bucket_start
    ${REPLACE_EXPERIMENT_BUCKET}
    returning experiment_id, session_count, new_participant_count, human_message_count, last_activity_at
    ),
    totals as (
      insert into statcache_experiment_totals as o ${EXPERIMENT_TOTALS_COLUMNS}
      select experiment_id, sum(session_count), sum(new_participant_count), sum(human_message_count),
             max(last_activity_at), now()
      from written
      group by experiment_id
      ${REPLACE_EXPERIMENT_TOTALS}
    )
    select count(*) as written from written`,
  );
  return toNumber(row?.written);
}
