/** Recomputes session buckets from source: whole sessions, or the buckets holding given instants. */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';

/**
 * Deletes every bucket of `sessionIds` and rebuilds them hourly from the chat's human messages
 * (nothing for sessions that no longer exist). Returns the (experiment, bucket start) of every
 * bucket written: the experiment buckets there must be recounted in the same transaction, because
 * a recount made earlier (another batch) may have read this session's buckets before they moved.
 * Parameters: $1 session ids (bigint[]).
 */
export async function rebuildWholeSessions(
  tx: Executor,
  sessionIds: readonly number[],
): Promise<{ experimentId: number; at: string }[]> {
  if (sessionIds.length === 0) return [];
  const ids = bigintArray(sessionIds);
  await tx.execute(sql`delete from session_statistics_buckets where session_id = any(${ids})`);
  const rows = await queryRows<{ experiment_id: unknown; bucket_start: unknown }>(
    tx,
    sql`
    insert into session_statistics_buckets (
      team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end, human_message_count, last_activity_at, updated_at
    )
    select s.team_id, s.experiment_id, s.id, 'hour', date_trunc('hour', m.created_at, 'UTC'),
           date_trunc('hour', m.created_at, 'UTC') + interval '1 hour', count(*), max(m.created_at), now()
    from experiment_sessions s
    join chat_messages m on m.chat_id = s.chat_id and m.message_type = 'human'
    where s.id = any(${ids})
    group by s.team_id, s.experiment_id, s.id, date_trunc('hour', m.created_at, 'UTC')
    returning experiment_id, bucket_start`,
  );
  return rows.map((r) => ({
    experimentId: toNumber(r.experiment_id),
    at: (toDate(r.bucket_start) as Date).toISOString(),
  }));
}

/**
 * Recounts, for each (session, instant), the session's bucket covering that instant: an existing day
 * or month bucket if the range was compressed, else the hour. Buckets whose count drops to zero,
 * or whose session is gone, are deleted. Returns buckets written plus deleted.
 * Parameters: $1 session ids, $2 instants (parallel arrays).
 */
export async function recomputeSessionBuckets(
  tx: Executor,
  sessionIds: readonly number[],
  instants: readonly string[],
): Promise<number> {
  if (sessionIds.length === 0) return 0;
  const [row] = await queryRows<{ written: unknown; deleted: unknown }>(
    tx,
    sql`
    with keys as (
      select distinct k.session_id, date_trunc('hour', k.at, 'UTC') as hour
      from unnest(${bigintArray(sessionIds)}, ${sql.param([...instants])}::timestamptz[]) as k(session_id, at)
    ),
    targets as (
      -- Correlated (LATERAL) lookups by primary key on purpose: the work must stay proportional to
      -- the keys, never a scan of the bucket or session tables, whatever the history size.
      select distinct k.session_id,
             case when bm.bucket_start is not null then 'month' when bd.bucket_start is not null then 'day' else 'hour' end as bucket_size,
             coalesce(bm.bucket_start, bd.bucket_start, k.hour) as bucket_start,
             coalesce(bm.bucket_end, bd.bucket_end, k.hour + interval '1 hour') as bucket_end
      from keys k
      left join lateral (
        select b.bucket_start, b.bucket_end from session_statistics_buckets b
        where b.session_id = k.session_id and b.bucket_size = 'month' and b.bucket_start = date_trunc('month', k.hour, 'UTC')
      ) bm on true
      left join lateral (
        select b.bucket_start, b.bucket_end from session_statistics_buckets b
        where b.session_id = k.session_id and b.bucket_size = 'day' and b.bucket_start = date_trunc('day', k.hour, 'UTC')
      ) bd on true
    ),
    computed as (
      select t.*, s.team_id, s.experiment_id, n.messages, n.last_at
      from targets t
      cross join lateral (
        select s.team_id, s.experiment_id, s.chat_id from experiment_sessions s where s.id = t.session_id
      ) s
      cross join lateral (
        select count(*) as messages, max(m.created_at) as last_at
        from chat_messages m
        where m.chat_id = s.chat_id and m.message_type = 'human'
          and m.created_at >= t.bucket_start and m.created_at < t.bucket_end
      ) n
      where n.messages > 0
    ),
    written as (
      insert into session_statistics_buckets (
        team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end, human_message_count, last_activity_at, updated_at
      )
      select team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end, messages, last_at, now()
      from computed
      on conflict (session_id, bucket_size, bucket_start) do update set
        team_id = excluded.team_id,
        experiment_id = excluded.experiment_id,
        human_message_count = excluded.human_message_count,
        last_activity_at = excluded.last_activity_at,
        updated_at = excluded.updated_at
      returning 1
    ),
    deleted as (
      delete from session_statistics_buckets b
      using targets t
      where b.session_id = t.session_id and b.bucket_size = t.bucket_size and b.bucket_start = t.bucket_start
        and not exists (select 1 from computed c
                        where c.session_id = t.session_id and c.bucket_size = t.bucket_size and c.bucket_start = t.bucket_start)
      returning 1
    )
    select (select count(*) from written) as written, (select count(*) from deleted) as deleted`,
  );
  return toNumber(row?.written) + toNumber(row?.deleted);
}
