/**
 * Live recount of experiment buckets, written independently of the refresh SQL (window function for
 * first sessions, per-event union) so that a mistake in one is caught by the other.
 */
import { sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';
import {
  countedExperiment,
  experimentRowsOf,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { ExperimentBucketMismatch, ExperimentBucketValues } from './mismatch.js';

interface Row {
  experiment_id: unknown;
  bucket_size: BucketSize;
  bucket_start: unknown;
  x_present: boolean;
  x_sessions: unknown;
  x_participants: unknown;
  x_messages: unknown;
  x_last: unknown;
  b_present: boolean;
  b_sessions: unknown;
  b_participants: unknown;
  b_messages: unknown;
  b_last: unknown;
}

/**
 * Compares the stored buckets of `experimentIds` with a recount from source and returns the
 * differences. Live hours are placed in the stored month or day bucket covering them when one
 * exists, else in their own hour, so coarser buckets are checked as sums of their hours. Sessions
 * with a NULL platform count. `source` names the sessions and messages tables.
 * Parameters: $1 experiment ids (bigint[]), $2 excluded platforms (text[]).
 */
export async function recountExperimentBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<ExperimentBucketMismatch[]> {
  const ids = bigintArray(experimentIds);
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const rows = await queryRows<Row>(
    tx,
    sql`
    with live_sessions as (
      select ${countedExperiment(source, S.experimentId)} as experiment_id, ${S.chatId} as chat_id, ${S.createdAt} as created_at,
             case when ${S.participantId} is not null
                   and row_number() over (partition by ${countedExperiment(source, S.experimentId)}, ${S.participantId}
                                          order by ${S.createdAt}, ${S.id}) = 1
                  then 1 else 0 end as is_first
      from ${S.from}
      where ${S.experimentId} = any(${withVersionRows(source, experimentRowsOf(source, ids))}) and ${platformCounted(S.platform, textArray(excludedPlatforms))}
    ),
    events as (
      select experiment_id, created_at as at, 1 as sessions, is_first as participants, 0 as messages,
             null::timestamptz as last_at
      from live_sessions
      union all
      select ls.experiment_id, ${M.createdAt}, 0, 0, 1, ${M.createdAt}
      from live_sessions ls join ${M.from} on ${M.chatId} = ls.chat_id
      where ${M.type} = 'human'
    ),
    hourly as (
      select experiment_id, date_trunc('hour', at, 'UTC') as hour, sum(sessions) as sessions,
             sum(participants) as participants, sum(messages) as messages, max(last_at) as last_at
      from events group by 1, 2
    ),
    stored as materialized (
      select * from experiment_statistics_buckets where experiment_id = any(${ids})
    ),
    placed as (
      select h.*,
             case when bm.experiment_id is not null then 'month' when bd.experiment_id is not null then 'day' else 'hour' end as bucket_size,
             coalesce(bm.bucket_start, bd.bucket_start, h.hour) as bucket_start
      from hourly h
      left join stored bm on bm.experiment_id = h.experiment_id and bm.bucket_size = 'month'
                         and bm.bucket_start = date_trunc('month', h.hour, 'UTC')
      left join stored bd on bd.experiment_id = h.experiment_id and bd.bucket_size = 'day'
                         and bd.bucket_start = date_trunc('day', h.hour, 'UTC')
    ),
    expected as (
      select experiment_id, bucket_size, bucket_start, sum(sessions) as sessions,
             sum(participants) as participants, sum(messages) as messages, max(last_at) as last_at
      from placed group by 1, 2, 3
    )
    select coalesce(x.experiment_id, b.experiment_id) as experiment_id,
           coalesce(x.bucket_size, b.bucket_size) as bucket_size,
           coalesce(x.bucket_start, b.bucket_start) as bucket_start,
           x.experiment_id is not null as x_present, x.sessions as x_sessions, x.participants as x_participants,
           x.messages as x_messages, x.last_at as x_last,
           b.experiment_id is not null as b_present, b.session_count as b_sessions,
           b.new_participant_count as b_participants, b.human_message_count as b_messages, b.last_activity_at as b_last
    from expected x
    full join stored b on b.experiment_id = x.experiment_id and b.bucket_size = x.bucket_size
                      and b.bucket_start = x.bucket_start
    where x.experiment_id is null or b.experiment_id is null
       or x.sessions <> b.session_count or x.participants <> b.new_participant_count
       or x.messages <> b.human_message_count or x.last_at is distinct from b.last_activity_at
    order by 1, 3`,
  );
  return rows.map((r) => ({
    kind: 'experiment_bucket',
    experimentId: toNumber(r.experiment_id),
    bucketSize: r.bucket_size,
    bucketStart: (toDate(r.bucket_start) as Date).toISOString(),
    expected: r.x_present ? experimentValues(r.x_sessions, r.x_participants, r.x_messages, r.x_last) : null,
    actual: r.b_present ? experimentValues(r.b_sessions, r.b_participants, r.b_messages, r.b_last) : null,
  }));
}

/** A recounted or stored row's values as verify reports them (also used for experiment totals). */
export function experimentValues(
  sessions: unknown,
  participants: unknown,
  messages: unknown,
  last: unknown,
): ExperimentBucketValues {
  return {
    sessions: toNumber(sessions),
    participants: toNumber(participants),
    humanMessages: toNumber(messages),
    lastActivityAt: toDate(last)?.toISOString() ?? null,
  };
}
