/**
 * Live answers straight from the platform's tables, by the README's definitions: what a read
 * returns while the cache was never built (marked `live`), and what a fresh read uses for an
 * experiment whose pending changes ask for a whole rebuild (an `experiment` key, or a TRUNCATE).
 * Bounded by the history of the experiments or sessions asked for, so used only for those.
 */
import { type SQL, sql } from 'drizzle-orm';
import {
  countedExperiment,
  experimentRowsOf,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../../source/relation-sql.js';
import type { SourceProfile } from '../../source/source-profile.js';
import { chatVersionsSql } from '../../versions/chat-versions-sql.js';

/** The sessions counted under the experiment rows among `ids` (bigint[]), with what each count needs. */
function countedSessions(source: SourceProfile, ids: SQL, excluded: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  return sql`
      select ${countedExperiment(source, S.experimentId)} as experiment_id, ${S.id} as session_id,
             ${S.participantId} as participant_id, ${S.chatId} as chat_id, ${S.createdAt} as created_at
      from ${S.from}
      where ${S.experimentId} = any(${withVersionRows(source, experimentRowsOf(source, ids))})
        and ${platformCounted(S.platform, excluded)}`;
}

/**
 * A SELECT of (experiment_id, sessions, participants, messages, last_at): the totals of the
 * experiment rows among `ids` (a bigint[] expression) that have any session counted; others have
 * no row (they read as zeros).
 */
export function liveExperimentTotalsSql(source: SourceProfile, ids: SQL, excluded: SQL): SQL {
  const M = relationSql(source, 'messages', 'm');
  return sql`
      select ls.experiment_id, count(*) as sessions, count(distinct ls.participant_id) as participants,
             coalesce(sum(h.messages), 0)::bigint as messages, max(h.last_at) as last_at
      from (${countedSessions(source, ids, excluded)}) ls
      left join lateral (
        select count(*) as messages, max(${M.createdAt}) as last_at
        from ${M.from} where ${M.chatId} = ls.chat_id and ${M.type} = 'human'
      ) h on true
      group by ls.experiment_id`;
}

/**
 * A SELECT of (experiment_id, bucket_size, bucket_start, bucket_end, sessions, participants,
 * messages, last_at): the experiment rows among `ids` counted hour by hour, each hour placed in the
 * stored month or day bucket covering it when one exists (the grid a refresh would keep), else in
 * its own hour. Participants count in the hour of their first counted session (earliest, then
 * lowest session id).
 */
export function liveExperimentBucketsSql(source: SourceProfile, ids: SQL, excluded: SQL): SQL {
  const M = relationSql(source, 'messages', 'm');
  return sql`
      select p.experiment_id, p.bucket_size, p.bucket_start,
             case p.bucket_size when 'hour' then p.bucket_start + interval '1 hour'
               else ((p.bucket_start at time zone 'UTC') + ('1 ' || p.bucket_size)::interval) at time zone 'UTC' end as bucket_end,
             sum(p.sessions) as sessions, sum(p.participants) as participants, sum(p.messages) as messages,
             max(p.last_at) as last_at
      from (
        select h.*,
               case when bm.experiment_id is not null then 'month' when bd.experiment_id is not null then 'day' else 'hour' end as bucket_size,
               coalesce(bm.bucket_start, bd.bucket_start, h.hour) as bucket_start
        from (
          select e.experiment_id, date_trunc('hour', e.at, 'UTC') as hour, sum(e.sessions) as sessions,
                 sum(e.participants) as participants, sum(e.messages) as messages, max(e.last_at) as last_at
          from (
            select ls.experiment_id, ls.created_at as at, 1 as sessions,
                   case when ls.participant_id is not null
                         and row_number() over (partition by ls.experiment_id, ls.participant_id
                                                order by ls.created_at, ls.session_id) = 1
                        then 1 else 0 end as participants,
                   0 as messages, null::timestamptz as last_at
            from (${countedSessions(source, ids, excluded)}) ls
            union all
            select ls.experiment_id, ${M.createdAt}, 0, 0, 1, ${M.createdAt}
            from (${countedSessions(source, ids, excluded)}) ls
            join ${M.from} on ${M.chatId} = ls.chat_id and ${M.type} = 'human'
          ) e
          group by 1, 2
        ) h
        left join experiment_statistics_buckets bm on bm.experiment_id = h.experiment_id and bm.bucket_size = 'month'
                                                  and bm.bucket_start = date_trunc('month', h.hour, 'UTC')
        left join experiment_statistics_buckets bd on bd.experiment_id = h.experiment_id and bd.bucket_size = 'day'
                                                  and bd.bucket_start = date_trunc('day', h.hour, 'UTC')
      ) p
      group by p.experiment_id, p.bucket_size, p.bucket_start`;
}

/**
 * A SELECT of (session_id, messages, last_at, versions) for the sessions `sessions` names (a
 * SELECT of session_id): human messages of each one's chat, the latest one, and the distinct
 * names of experiment-version tags on any message of its chat in natural order. Sessions that do
 * not exist have no row.
 */
export function liveSessionTotalsSql(source: SourceProfile, sessions: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  return sql`
      select ${S.id} as session_id, h.messages, h.last_at,
             coalesce(${chatVersionsSql(source, S.chatId)}, '{}'::text[]) as versions
      from (${sessions}) w
      join ${S.from} on ${S.id} = w.session_id
      cross join lateral (
        select count(*) as messages, max(${M.createdAt}) as last_at
        from ${M.from} where ${M.chatId} = ${S.chatId} and ${M.type} = 'human'
      ) h`;
}
