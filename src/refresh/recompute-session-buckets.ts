/** Recomputes the batch's session buckets from source: whole sessions, and buckets holding instants. */
import { sql } from 'drizzle-orm';
import { coveringBucketsSql } from '../buckets/covering-bucket-sql.js';
import type { BucketShape } from '../buckets/shape.js';
import { bucketEndSql, bucketSizeSql, bucketStartSql } from '../buckets/shape-sql.js';
import { REPLACE_SESSION_BUCKET, SESSION_BUCKET_COLUMNS } from '../buckets/upsert-sql.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { countedExperiment, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { CLAIMED, CLAIMED_WHOLE_SESSIONS } from './claim-changes.js';

/**
 * Deletes every bucket of the batch's `session` keys and rebuilds them in `shape` (hourly, or
 * daily/monthly for ranges the policy has compressed) from the chat's human messages (nothing for
 * sessions that no longer exist). Adds to the batch an experiment key for every hour in which a
 * rebuilt session has human messages: a recount made earlier (another batch) may have read this
 * session's buckets before they moved, and the experiment's buckets there may be finer than the
 * session's (so one key per coarse bucket would miss hours); and keys for what the deleted buckets
 * covered. Returns buckets written.
 */
export async function rebuildWholeSessions(
  tx: Executor,
  shape: BucketShape,
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const size = bucketSizeSql(sql`h.bucket_start`, shape);
  await tx.execute(sql`
    with gone as (
      -- = any(array(...)): index probes per session, never a scan of the bucket table.
      delete from session_statistics_buckets
      where session_id = any(array(${CLAIMED_WHOLE_SESSIONS}))
      returning experiment_id, bucket_size, bucket_start, bucket_end
    )
    -- What the deleted buckets counted must be recounted where they were filed. A session that is
    -- gone (its chat deleted, messages first) leaves no other record of its hours: an hourly bucket
    -- names its hour; a daily or monthly one may hold messages of any finer experiment bucket
    -- inside it, so each of those is keyed (by primary key ranges, at most a month of hours).
    -- Lateral with OFFSET 0: a range probe per deleted coarse bucket. As a plain join PostgreSQL,
    -- misjudging how many buckets go, sorted the whole experiment bucket table for a merge join
    -- even when none went (35 ms of a 110 ms new-hour refresh at 1M messages).
    insert into ${CLAIMED} (kind, experiment_id, at)
    select 'experiment_hour', g.experiment_id, g.bucket_start from gone g
    union
    select 'experiment_hour', g.experiment_id, b.bucket_start
    from gone g
    cross join lateral (
      select b.bucket_start from experiment_statistics_buckets b
      where g.bucket_size <> 'hour' and b.experiment_id = g.experiment_id and b.bucket_size in ('hour', 'day')
        and b.bucket_start >= g.bucket_start and b.bucket_start < g.bucket_end
      offset 0
    ) b`);
  const [row] = await queryRows<{ written: unknown }>(
    tx,
    sql`
    -- Per session and hour first: a bucket of the shape is a union of whole hours (its boundaries are
    -- hours), so the shape's CASE runs once per hour, not once per message.
    with source as materialized (
      select s.team_id, s.experiment_id, s.id, s.platform, date_trunc('hour', ${M.createdAt}, 'UTC') as hour,
             count(*) as messages, max(${M.createdAt}) as last_at
      from (select distinct session_id from (${CLAIMED_WHOLE_SESSIONS}) k) w
      cross join lateral (
        select ${S.teamId} as team_id, ${countedExperiment(source, S.experimentId)} as experiment_id, ${S.id} as id,
               ${S.platform} as platform,
               ${S.chatId} as chat_id
        -- OFFSET 0: the counted experiment (a lookup on a profile with versions) once per session,
        -- not once per message joined below.
        from ${S.from} where ${S.id} = w.session_id offset 0) s
      join ${M.from} on ${M.chatId} = s.chat_id and ${M.type} = 'human'
      group by s.team_id, s.experiment_id, s.id, s.platform, date_trunc('hour', ${M.createdAt}, 'UTC')
    ),
    written as (
      insert into session_statistics_buckets ${SESSION_BUCKET_COLUMNS}
      select src.team_id, src.experiment_id, src.id, src.platform, ${size}, h.bucket_start, ${bucketEndSql(size, sql`h.bucket_start`)},
             sum(src.messages), max(src.last_at), now()
      from source src
      cross join lateral (select ${bucketStartSql(sql`src.hour`, shape)} as bucket_start) h
      group by src.team_id, src.experiment_id, src.id, src.platform, h.bucket_start
      returning 1
    ),
    keyed as (
      insert into ${CLAIMED} (kind, experiment_id, at)
      select distinct 'experiment_hour', experiment_id, hour from source
    )
    select count(*) as written from written`,
  );
  return toNumber(row?.written);
}

/**
 * Recounts, for each claimed (session, instant) of a session not rebuilt whole, the session's
 * bucket covering that instant: an existing day or month bucket if the range was compressed, else
 * the hour. Buckets whose count drops to zero, or whose session is gone, are deleted. Returns
 * buckets written plus deleted.
 */
export async function recomputeSessionBuckets(tx: Executor, source: SourceProfile): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const [row] = await queryRows<{ written: unknown; deleted: unknown }>(
    tx,
    sql`
    with keys as (
      select distinct c.session_id, date_trunc('hour', c.at, 'UTC') as hour
      from ${CLAIMED} c
      where c.kind = 'message_hour' and c.session_id is not null and c.at is not null
        and not exists (select 1 from ${CLAIMED} w where w.kind = 'session' and w.session_id = c.session_id)
    ),
    targets as (${coveringBucketsSql('session', sql`keys`)}),
    computed as (
      select t.*, s.team_id, s.experiment_id, s.platform, n.messages, n.last_at
      from targets t
      cross join lateral (
        select ${S.teamId} as team_id, ${countedExperiment(source, S.experimentId)} as experiment_id,
               ${S.platform} as platform, ${S.chatId} as chat_id
        from ${S.from} where ${S.id} = t.session_id
      ) s
      cross join lateral (
        select count(*) as messages, max(${M.createdAt}) as last_at
        from ${M.from}
        where ${M.chatId} = s.chat_id and ${M.type} = 'human'
          and ${M.createdAt} >= t.bucket_start and ${M.createdAt} < t.bucket_end
      ) n
      where n.messages > 0
    ),
    written as (
      insert into session_statistics_buckets as c ${SESSION_BUCKET_COLUMNS}
      select team_id, experiment_id, session_id, platform, bucket_size, bucket_start, bucket_end, messages, last_at, now()
      from computed
      ${REPLACE_SESSION_BUCKET}
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
