/** Recomputes the experiment buckets holding given instants, from source, at a cost per bucket. */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { CLAIMED } from './claim-changes.js';

/**
 * Recounts, for each claimed (experiment, instant) of an experiment not rebuilt whole (`message_hour`
 * and `experiment_hour` keys, including those earlier steps added), the experiment's bucket covering that instant: an
 * existing day or month bucket if the range was compressed, else the hour. Buckets left with
 * nothing to count (or whose experiment is gone) are deleted, and the experiments' totals move by
 * what their buckets moved by. Returns buckets written plus deleted.
 *
 * Cost: sessions come from experiment_sessions(experiment_id, created_at); participants from
 * statcache_experiment_participants(experiment_id, first_session_at); human messages are the sum of
 * the counted sessions' buckets inside the range, read from the index on session buckets alone
 * (recomputed from source earlier in the same transaction for every session this batch touches;
 * any other session with a pending change will bring this bucket back for recounting; a session row
 * is read only for a session with a session change pending), plus, for a
 * session whose bucket is coarser than the range, its messages in the range from
 * chat_messages(chat_id, message_type, created_at).
 * Parameters: $1 whole experiments (bigint[]), then excluded platforms (text[]) at each use.
 */
export async function recomputeExperimentBuckets(
  tx: Executor,
  wholeExperiments: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<number> {
  const excluded = textArray(excludedPlatforms);
  // Whether session bucket sb counts in experiment bucket t. A bucket is trusted as filed (its
  // experiment, and its platform not excluded) unless its session has a session change pending:
  // only a session change (a move, a platform change, a delete) can leave a bucket filed where its
  // session no longer is, and until the refresh that applies it commits, its row stays visible
  // here (this transaction's own claims were applied before this statement, and are gone). Those
  // sessions are checked against their row as it is now. Without this, a refresh recounting the
  // old experiment while another applies the move would count the session there for good.
  const counted = sql`case when sb.session_id in (select session_id from pending_sessions)
      then exists (select 1 from experiment_sessions s where s.id = sb.session_id
                     and s.experiment_id = t.experiment_id and s.platform <> all(${excluded}))
      else sb.platform <> all(${excluded}) end`;
  // One union branch per session-bucket size, so every probe is an index range on (experiment_id,
  // bucket_size, bucket_start); \`when\` (on t alone) only switches a branch on or off.
  const filedInRange = (size: BucketSize, when: SQL, start: SQL) => sql`
          select sb.human_message_count as messages, sb.last_activity_at as last_at
          from session_statistics_buckets sb
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sql.raw(`'${size}'`)}
            and ${start} and ${counted}`;
  const startsInRange = sql`sb.bucket_start >= t.bucket_start and sb.bucket_start < t.bucket_end`;
  const coarserAround = (size: BucketSize, when: SQL) => sql`
          select count(m.*) as messages, max(m.created_at) as last_at
          from session_statistics_buckets sb
          join experiment_sessions s on s.id = sb.session_id and s.experiment_id = t.experiment_id
                                    and s.platform <> all(${excluded})
          join chat_messages m on m.chat_id = s.chat_id and m.message_type = 'human'
                               and m.created_at >= t.bucket_start and m.created_at < t.bucket_end
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sql.raw(`'${size}'`)}
            and sb.bucket_start = date_trunc(${sql.raw(`'${size}'`)}, t.bucket_start, 'UTC')`;
  const [row] = await queryRows<{ written: unknown; deleted: unknown }>(
    tx,
    sql`
    with pending_sessions as materialized (
      -- From the partial index on session changes; rows other refreshes have claimed but not
      -- committed are still visible, which is what makes their sessions' buckets suspect.
      select distinct session_id from statcache_changes where kind = 'session' and session_id is not null
    ),
    keys as (
      select distinct c.experiment_id, date_trunc('hour', c.at, 'UTC') as hour
      from ${CLAIMED} c
      where c.kind in ('message_hour', 'experiment_hour') and c.experiment_id is not null and c.at is not null
        and c.experiment_id <> all(${bigintArray(wholeExperiments)})
    ),
    targets as (
      -- Correlated (LATERAL) lookups by primary key on purpose: the work must stay proportional to
      -- the keys, never a scan of the bucket tables, whatever the history size.
      select distinct k.experiment_id,
             case when bm.bucket_start is not null then 'month' when bd.bucket_start is not null then 'day' else 'hour' end as bucket_size,
             coalesce(bm.bucket_start, bd.bucket_start, k.hour) as bucket_start,
             coalesce(bm.bucket_end, bd.bucket_end, k.hour + interval '1 hour') as bucket_end
      from keys k
      left join lateral (
        select b.bucket_start, b.bucket_end from experiment_statistics_buckets b
        where b.experiment_id = k.experiment_id and b.bucket_size = 'month' and b.bucket_start = date_trunc('month', k.hour, 'UTC')
      ) bm on true
      left join lateral (
        select b.bucket_start, b.bucket_end from experiment_statistics_buckets b
        where b.experiment_id = k.experiment_id and b.bucket_size = 'day' and b.bucket_start = date_trunc('day', k.hour, 'UTC')
      ) bd on true
    ),
    computed as materialized (
      select t.*, e.team_id,
             (select count(*) from experiment_sessions s
              where s.experiment_id = t.experiment_id and s.created_at >= t.bucket_start and s.created_at < t.bucket_end
                and s.platform <> all(${excluded})) as sessions,
             (select count(*) from statcache_experiment_participants p
              where p.experiment_id = t.experiment_id
                and p.first_session_at >= t.bucket_start and p.first_session_at < t.bucket_end) as participants,
             n.messages, n.last_at
      from targets t
      join experiments e on e.id = t.experiment_id
      cross join lateral (
        select coalesce(sum(part.messages), 0)::bigint as messages, max(part.last_at) as last_at
        from (
          -- Session buckets inside the range hold exact counts (those of every session this batch
          -- touches were recomputed earlier in the transaction): sum them, read from the index on
          -- (experiment_id, bucket_size, bucket_start) that includes session, count, last activity
          -- and platform, instead of re-reading the messages. This keeps a late message into a
          -- compressed day or month from re-reading the whole period's traffic. Which ones count:
          -- see counted above.
          ${filedInRange('hour', sql`true`, startsInRange)}
          union all
          ${filedInRange('day', sql`t.bucket_size <> 'hour'`, startsInRange)}
          union all
          ${filedInRange('month', sql`t.bucket_size = 'month'`, sql`sb.bucket_start = t.bucket_start`)}
          union all
          -- A session whose bucket is coarser than the range (its day or month around an hourly or
          -- daily experiment bucket): count its messages in the range from source. Exact index
          -- probes that find nothing unless such a bucket exists.
          ${coarserAround('day', sql`t.bucket_size = 'hour'`)}
          union all
          ${coarserAround('month', sql`t.bucket_size <> 'month'`)}
        ) part
      ) n
    ),
    nonzero as (
      select * from computed where sessions > 0 or participants > 0 or messages > 0
    ),
    written as (
      insert into experiment_statistics_buckets (
        team_id, experiment_id, bucket_size, bucket_start, bucket_end,
        session_count, new_participant_count, human_message_count, last_activity_at, updated_at
      )
      select team_id, experiment_id, bucket_size, bucket_start, bucket_end, sessions, participants, messages, last_at, now()
      from nonzero
      on conflict (experiment_id, bucket_size, bucket_start) do update set
        team_id = excluded.team_id,
        session_count = excluded.session_count,
        new_participant_count = excluded.new_participant_count,
        human_message_count = excluded.human_message_count,
        last_activity_at = excluded.last_activity_at,
        updated_at = excluded.updated_at
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
    -- The experiments' totals move by exactly what their recounted buckets moved by: the values
    -- before this statement (every CTE reads the same snapshot) are taken out and the recounted ones
    -- put in. The refresh's experiment locks keep any other writer of these buckets out meanwhile.
    previous as (
      select b.experiment_id, b.bucket_size, b.bucket_start, b.session_count, b.new_participant_count,
             b.human_message_count, b.last_activity_at
      from targets t
      join experiment_statistics_buckets b on b.experiment_id = t.experiment_id and b.bucket_size = t.bucket_size
                                          and b.bucket_start = t.bucket_start
    ),
    moved as (
      select experiment_id, sum(sessions) as sessions, sum(participants) as participants,
             sum(messages) as messages, max(new_last) as new_last, max(old_last) as old_last
      from (
        select experiment_id, sessions, participants, messages, last_at as new_last, null::timestamptz as old_last
        from nonzero
        union all
        select experiment_id, -session_count, -new_participant_count, -human_message_count, null, last_activity_at
        from previous
      ) d
      group by experiment_id
    ),
    new_totals as (
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
                   and not exists (select 1 from targets t
                                   where t.experiment_id = b.experiment_id and t.bucket_size = b.bucket_size
                                     and t.bucket_start = b.bucket_start)))
             end as last_at
      from moved m
      left join statcache_experiment_totals o on o.experiment_id = m.experiment_id
    ),
    totals_written as (
      insert into statcache_experiment_totals as o (
        experiment_id, session_count, participant_count, human_message_count, last_activity_at, updated_at
      )
      select experiment_id, sessions, participants, messages, last_at, now()
      from new_totals
      where sessions > 0 or participants > 0 or messages > 0
      on conflict (experiment_id) do update set
        session_count = excluded.session_count,
        participant_count = excluded.participant_count,
        human_message_count = excluded.human_message_count,
        last_activity_at = excluded.last_activity_at,
        updated_at = excluded.updated_at
    ),
    -- Every stored bucket counts something, so totals of zero mean no bucket is left.
    totals_deleted as (
      delete from statcache_experiment_totals o
      using new_totals n
      where o.experiment_id = n.experiment_id and n.sessions = 0 and n.participants = 0 and n.messages = 0
    )
    select (select count(*) from written) as written, (select count(*) from deleted) as deleted`,
  );
  return toNumber(row?.written) + toNumber(row?.deleted);
}

/**
 * Instead of recounting now, queues one `experiment_hour` change per experiment key of the batch
 * (written in the batch's transaction, so nothing is lost if the run stops here). A run recounts
 * these once, after all its batches: a busy hour touched by every batch is recounted once per run,
 * not once per batch. Parameters: $1 whole experiments (bigint[]). Returns keys queued.
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
      select distinct 'experiment_hour', c.experiment_id, date_trunc('hour', c.at, 'UTC')
      from ${CLAIMED} c
      where c.kind in ('message_hour', 'experiment_hour') and c.experiment_id is not null and c.at is not null
        and c.experiment_id <> all(${bigintArray(wholeExperiments)})
      returning 1
    )
    select count(*) as queued from queued`,
  );
  return toNumber(row?.queued);
}
