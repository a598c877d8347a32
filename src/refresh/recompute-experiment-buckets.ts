/** Recomputes the experiment buckets holding given instants, from source, at a cost per bucket. */
import { sql } from 'drizzle-orm';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { CLAIMED } from './claim-changes.js';

/**
 * Recounts, for each claimed (experiment, instant) of an experiment not rebuilt whole (`message_hour`
 * and `experiment_hour` keys, including those earlier steps added), the experiment's bucket covering that instant: an
 * existing day or month bucket if the range was compressed, else the hour. Buckets left with
 * nothing to count (or whose experiment is gone) are deleted. Returns buckets written plus deleted.
 *
 * Cost: sessions come from experiment_sessions(experiment_id, created_at); participants from
 * statcache_experiment_participants(experiment_id, first_session_at); human messages are the sum of
 * the counted sessions' buckets inside the range (recomputed from source earlier in the same
 * transaction for every session this batch touches; any other session with a pending change will
 * bring this bucket back for recounting), plus, for a session whose bucket is coarser than the
 * range, its messages in the range from chat_messages(chat_id, message_type, created_at).
 * Parameters: $1 whole experiments (bigint[]), $2 excluded platforms (text[]).
 */
export async function recomputeExperimentBuckets(
  tx: Executor,
  wholeExperiments: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<number> {
  const excluded = textArray(excludedPlatforms);
  const [row] = await queryRows<{ written: unknown; deleted: unknown }>(
    tx,
    sql`
    with keys as (
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
    computed as (
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
          -- touches were recomputed earlier in the transaction): sum them, one index row each,
          -- instead of re-reading the messages. This keeps a late message into a compressed day
          -- or month from re-reading the whole period's traffic.
          select sb.human_message_count as messages, sb.last_activity_at as last_at
          from session_statistics_buckets sb
          join experiment_sessions s on s.id = sb.session_id and s.experiment_id = t.experiment_id
                                    and s.platform <> all(${excluded})
          where sb.experiment_id = t.experiment_id
            and sb.bucket_start >= t.bucket_start and sb.bucket_start < t.bucket_end and sb.bucket_end <= t.bucket_end
          union all
          -- A session whose bucket is coarser than the range (its day or month around an hourly or
          -- daily experiment bucket): count its messages in the range from source.
          select count(m.*), max(m.created_at)
          from session_statistics_buckets sb
          join experiment_sessions s on s.id = sb.session_id and s.experiment_id = t.experiment_id
                                    and s.platform <> all(${excluded})
          join chat_messages m on m.chat_id = s.chat_id and m.message_type = 'human'
                               and m.created_at >= t.bucket_start and m.created_at < t.bucket_end
          where sb.experiment_id = t.experiment_id and sb.bucket_size <> t.bucket_size
            and ((sb.bucket_size = 'day' and sb.bucket_start = date_trunc('day', t.bucket_start, 'UTC'))
                 or (sb.bucket_size = 'month' and sb.bucket_start = date_trunc('month', t.bucket_start, 'UTC')))
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
