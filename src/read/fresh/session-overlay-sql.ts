/**
 * The session side of a read: which sessions pending changes touch (`s_touched`), their totals and
 * versions now (`s_now`, also every session read while the cache was never built), and for series
 * the session buckets a refresh would recount (`s_targets`) with their values now (`s_recounted`).
 * A session's totals are its chat's human messages, so a touched session is recounted whole (one
 * index range per session); its series only in the buckets its changes name (for a `session` key,
 * every bucket it has and every hour it has messages in). Behind `gate.fresh` or `not built`.
 */
import { type SQL, sql } from 'drizzle-orm';
import { coveringBucketsSql } from '../../buckets/covering-bucket-sql.js';
import { relationSql } from '../../source/relation-sql.js';
import type { SourceProfile } from '../../source/source-profile.js';
import { liveSessionTotalsSql } from './live-sql.js';

/** `scope` is a SELECT of the session ids the read covers. */
export function sessionTotalsCtes(source: SourceProfile, scope: SQL): SQL {
  return sql`
    s_touched as materialized (
      select distinct resolved_session as session_id from pk
      where kind in ('message_hour', 'session', 'chat_versions') and resolved_session is not null
        and (select fresh from gate)
      union
      select id from (${scope}) sc where (select fresh and has_all from gate) or not (select built from read_state)
    ),
    s_now as materialized (${liveSessionTotalsSql(source, sql`select session_id from s_touched`)})`;
}

/** The joins for session id `id`: `st` (touched, or live), `sn` (its values now). */
export function sessionTotalsJoins(id: SQL): SQL {
  return sql`
      left join s_touched st on st.session_id = ${id}
      left join s_now sn on sn.session_id = ${id}`;
}

/**
 * human_messages, last_activity_at, experiment_versions: recounted for a touched session (zeros
 * for one that is gone), else the stored `messages`, `last` and `versions`.
 */
export function sessionTotalsValues(messages: SQL, last: SQL, versions: SQL): SQL {
  return sql`
      case when st.session_id is not null then coalesce(sn.messages, 0) else coalesce(${messages}, 0) end as human_messages,
      case when st.session_id is not null then sn.last_at else ${last} end as last_activity_at,
      case when st.session_id is not null then coalesce(sn.versions, '{}'::text[]) else coalesce(${versions}, '{}'::text[]) end
        as experiment_versions`;
}

/**
 * For a series of the sessions `scope`: `s_targets` (session_id, bucket_size, bucket_start,
 * bucket_end) and `s_recounted` (the same plus messages, last_at; zeros included).
 */
export function sessionSeriesCtes(source: SourceProfile, scope: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  return sql`
    s_whole as materialized (
      select distinct resolved_session as session_id from pk
      where kind = 'session' and resolved_session is not null and (select fresh from gate)
      union
      select id from (${scope}) sc where (select fresh and has_all from gate) or not (select built from read_state)
    ),
    s_keys as (
      select resolved_session as session_id, date_trunc('hour', at, 'UTC') as hour from pk
      where kind = 'message_hour' and resolved_session is not null and at is not null and (select fresh from gate)
      union
      select b.session_id, b.bucket_start from s_whole w join session_statistics_buckets b on b.session_id = w.session_id
      union
      select ${S.id}, date_trunc('hour', ${M.createdAt}, 'UTC')
      from s_whole w join ${S.from} on ${S.id} = w.session_id
      join ${M.from} on ${M.chatId} = ${S.chatId} and ${M.type} = 'human'
    ),
    s_targets as materialized (
      select t.* from (${coveringBucketsSql('session', sql`s_keys`)}) t where t.session_id in (${scope})
    ),
    s_recounted as materialized (
      select t.*, coalesce(n.messages, 0) as messages, n.last_at
      from s_targets t
      left join lateral (
        select count(*) as messages, max(${M.createdAt}) as last_at
        from ${S.from} join ${M.from} on ${M.chatId} = ${S.chatId} and ${M.type} = 'human'
        where ${S.id} = t.session_id and ${M.createdAt} >= t.bucket_start and ${M.createdAt} < t.bucket_end
      ) n on true
    )`;
}
