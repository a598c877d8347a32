/**
 * CTEs that move each experiment's totals row by exactly what its recounted buckets moved by: the
 * bucket values before the statement (every CTE reads the same snapshot) are taken out and the
 * recounted ones put in. The refresh's experiment locks keep any other writer of these buckets out
 * meanwhile. Reads `targets` (the recounted buckets) and `nonzero` (their new values).
 */
import { type SQL, sql } from 'drizzle-orm';
import { EXPERIMENT_TOTALS_COLUMNS, REPLACE_EXPERIMENT_TOTALS } from '../buckets/upsert-sql.js';

export const TOTALS_DELTA_CTES = sql`
    moved as (${movedByRecountSql(sql.raw('targets'), sql.raw('nonzero'))}),
    new_totals as (${totalsAfterSql(sql.raw('moved'), sql.raw('targets'))}),
    totals_written as (
      insert into statcache_experiment_totals as o ${EXPERIMENT_TOTALS_COLUMNS}
      select experiment_id, sessions, participants, messages, last_at, now()
      from new_totals
      where sessions > 0 or participants > 0 or messages > 0
      ${REPLACE_EXPERIMENT_TOTALS}
    ),
    -- Every stored bucket counts something, so totals of zero mean no bucket is left.
    totals_deleted as (
      delete from statcache_experiment_totals o
      using new_totals n
      where o.experiment_id = n.experiment_id and n.sessions = 0 and n.participants = 0 and n.messages = 0
    )`;

/**
 * A SELECT of (experiment_id, sessions, participants, messages, last_at): each experiment's totals
 * row after its buckets in `targets` (experiment_id, bucket_size, bucket_start) moved by `moved`
 * (experiment_id, sessions, participants, messages: the sums of new minus old values; new_last,
 * old_last: the latest activity of the new and of the old bucket values). Shared by the refresh,
 * which writes the result, and the fresh reads, which answer with it.
 */
export function totalsAfterSql(moved: SQL, targets: SQL): SQL {
  return sql`
      select m.experiment_id,
             coalesce(o.session_count, 0) + m.sessions as sessions,
             coalesce(o.participant_count, 0) + m.participants as participants,
             coalesce(o.human_message_count, 0) + m.messages as messages,
             case
               -- No activity stored before: the recounted buckets hold all there is.
               when o.last_activity_at is null then m.new_last
               -- The latest activity lies in a bucket not recounted, or a recounted one reached it.
               when m.old_last is null or m.old_last < o.last_activity_at or m.new_last >= o.last_activity_at
                 then greatest(m.new_last, o.last_activity_at)
               -- The bucket that held the latest activity lost it: look at the buckets not recounted.
               else greatest(m.new_last, (
                 select max(b.last_activity_at) from experiment_statistics_buckets b
                 where b.experiment_id = m.experiment_id
                   and not exists (select 1 from ${targets} t
                                   where t.experiment_id = b.experiment_id and t.bucket_size = b.bucket_size
                                     and t.bucket_start = b.bucket_start)))
             end as last_at
      from ${moved} m
      left join statcache_experiment_totals o on o.experiment_id = m.experiment_id`;
}

/**
 * A SELECT of (experiment_id, sessions, participants, messages, new_last, old_last): per experiment,
 * what its buckets in `targets` moved by when recounted to `recounted` (rows of targets with
 * sessions, participants, messages, last_at; a target without a row recounts to nothing): the
 * stored values before the statement (every CTE reads the same snapshot) taken out, the recounted
 * ones put in.
 */
export function movedByRecountSql(targets: SQL, recounted: SQL): SQL {
  return sql`
      select experiment_id, sum(sessions) as sessions, sum(participants) as participants,
             sum(messages) as messages, max(new_last) as new_last, max(old_last) as old_last
      from (
        select experiment_id, sessions, participants, messages, last_at as new_last, null::timestamptz as old_last
        from ${recounted}
        union all
        select b.experiment_id, -b.session_count, -b.new_participant_count, -b.human_message_count, null, b.last_activity_at
        from ${targets} t
        join experiment_statistics_buckets b on b.experiment_id = t.experiment_id and b.bucket_size = t.bucket_size
                                            and b.bucket_start = t.bucket_start
      ) d
      group by experiment_id`;
}
