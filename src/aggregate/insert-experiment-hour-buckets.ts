/** Hourly experiment buckets for a batch of experiments, recomputed from source in one statement. */
import { sql } from 'drizzle-orm';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';

/**
 * Inserts (or overwrites) the hourly buckets of every experiment in `experimentIds`, computed from
 * the chat tables. Callers delete the scope's old buckets first, in the same transaction, so hours
 * that no longer have source rows disappear.
 *
 * Parameters: $1 experiment ids (bigint[]), $2 excluded platforms (text[]).
 * Counted sessions are those of the batch whose platform is not excluded. Three rollups are
 * unioned and summed per (experiment, hour):
 *   sessions by created_at; participants by their first counted session with the experiment;
 *   human messages of counted sessions by message created_at, with the latest as last activity.
 * Returns the number of buckets written.
 */
export function insertExperimentHourBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<number> {
  return execCount(
    tx,
    sql`
    insert into experiment_statistics_buckets as b (
      team_id, experiment_id, bucket_size, bucket_start, bucket_end,
      session_count, new_participant_count, human_message_count, last_activity_at, updated_at
    )
    with counted_sessions as materialized (
      select s.experiment_id, s.participant_id, s.chat_id, s.created_at
      from experiment_sessions s
      where s.experiment_id = any(${bigintArray(experimentIds)})
        and s.platform <> all(${textArray(excludedPlatforms)})
    ),
    rollup as (
      select experiment_id, date_trunc('hour', created_at, 'UTC') as bucket_start,
             count(*) as sessions, 0::bigint as participants, 0::bigint as messages,
             null::timestamptz as last_at
      from counted_sessions
      group by 1, 2
      union all
      select experiment_id, date_trunc('hour', first_at, 'UTC'), 0, count(*), 0, null
      from (
        select experiment_id, participant_id, min(created_at) as first_at
        from counted_sessions
        where participant_id is not null
        group by 1, 2
      ) first_sessions
      group by 1, 2
      union all
      select cs.experiment_id, date_trunc('hour', m.created_at, 'UTC'), 0, 0, count(*), max(m.created_at)
      from counted_sessions cs
      join chat_messages m on m.chat_id = cs.chat_id
      where m.message_type = 'human'
      group by 1, 2
    )
    select e.team_id, r.experiment_id, 'hour', r.bucket_start, r.bucket_start + interval '1 hour',
           sum(r.sessions), sum(r.participants), sum(r.messages), max(r.last_at), now()
    from rollup r
    join experiments e on e.id = r.experiment_id
    group by e.team_id, r.experiment_id, r.bucket_start
    on conflict (experiment_id, bucket_size, bucket_start) do update set
      team_id = excluded.team_id,
      session_count = excluded.session_count,
      new_participant_count = excluded.new_participant_count,
      human_message_count = excluded.human_message_count,
      last_activity_at = excluded.last_activity_at,
      updated_at = excluded.updated_at`,
  );
}
