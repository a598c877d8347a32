/**
 * The experiment side of a fresh read: from the pending change rows that touch the read (`pk`, see
 * readStateCtes), the experiment buckets a refresh would recount, recounted from source in the
 * read's own statement (read-only), and each touched experiment's totals as they would be after
 * that refresh. The same rules as the refresh (docs/design.md, "The keys"), expressed as SELECTs:
 * - `message_hour` and `experiment_hour` keys name an experiment hour;
 * - `participant` keys name the hours of the participant's old first session (as stored) and new
 *   one (recomputed from the participant's sessions);
 * - `session` keys name every bucket the session is filed under (for a day or month bucket, also the
 *   experiment's finer buckets inside it), and its creation and messages' hours where it counts now;
 * - `experiment` keys, and a TRUNCATE, ask for the whole experiment: counted live.
 * Each hour is recounted in the stored bucket covering it (coveringBucketsSql). A recount trusts
 * the stored session buckets except a session-key session's (all of them) and a message-keyed
 * session's in the bucket its key names, and counts those parts from source instead. Cost: per pending change and recounted bucket, never per history (except
 * the live experiments). Every CTE is behind `gate.fresh`.
 */
import { type SQL, sql } from 'drizzle-orm';
import { coveringBucketsSql } from '../../buckets/covering-bucket-sql.js';
import { storedMessagesInTargetSql } from '../../refresh/experiment-bucket-counts-sql.js';
import { movedByRecountSql, totalsAfterSql } from '../../refresh/totals-delta-sql.js';
import {
  countedExperiment,
  isExperimentRow,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../../source/relation-sql.js';
import type { SourceProfile } from '../../source/source-profile.js';
import { liveExperimentTotalsSql } from './live-sql.js';

/**
 * Session bucket `sb`'s count in target `t` is trusted: its session has no session key, and no
 * message key makes its part of t suspect (uncorrelated NOT INs: hashed once per statement).
 */
const trusted = sql`sb.session_id not in (select session_id from x_session_keys)
              and (sb.session_id, t.experiment_id, t.bucket_size, t.bucket_start)
                  not in (select session_id, experiment_id, bucket_size, bucket_start from x_stale)`;

/**
 * CTEs `x_whole` (experiments counted live), `x_session_keys` (sessions a session key names),
 * `x_ts_now` (those that count now), `x_ts_hours` (their human messages by experiment and hour),
 * `x_msg_keys`, `x_stale` (the (session, target) parts message keys make suspect), `x_pairs`, `x_targets` (the buckets to
 * recount), `x_recounted` (their values now, zeros included), `x_whole_live` and `x_overlay` (experiment_id,
 * sessions, participants, messages, last_at: the totals now of every experiment touched). `scope`
 * is a SELECT of the experiment ids the read covers.
 */
export function experimentOverlayCtes(source: SourceProfile, scope: SQL, excluded: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const E = relationSql(source, 'experiments', 'e');
  const fresh = sql`(select fresh from gate)`;
  return sql`
    x_whole as materialized (
      select experiment_id from pk where kind = 'experiment' and experiment_id is not null and ${fresh}
      union
      select id from (${scope}) sc where ${fresh} and (select has_all from gate)
    ),
    -- Sessions a session key names: every bucket of theirs is suspect (moved, re-platformed, gone).
    x_session_keys as materialized (
      select distinct resolved_session as session_id from pk
      where kind = 'session' and resolved_session is not null and ${fresh}
    ),
    -- Those that count somewhere now (an excluded platform counts nowhere).
    x_ts_now as materialized (
      select ${S.id} as session_id, ${countedExperiment(source, S.experimentId)} as experiment_id,
             ${S.chatId} as chat_id, ${S.createdAt} as created_at
      from x_session_keys k join ${S.from} on ${S.id} = k.session_id
      where ${platformCounted(S.platform, excluded)}
    ),
    -- Their human messages by experiment and hour (one index range per session).
    x_ts_hours as materialized (
      select t.experiment_id, date_trunc('hour', ${M.createdAt}, 'UTC') as hour,
             count(*) as messages, max(${M.createdAt}) as last_at
      from x_ts_now t join ${M.from} on ${M.chatId} = t.chat_id and ${M.type} = 'human'
      group by 1, 2
    ),
    -- Message keys: a session's messages changed in one hour of one experiment.
    x_msg_keys as materialized (
      select distinct resolved_session as session_id, experiment_id, date_trunc('hour', at, 'UTC') as hour
      from pk
      where kind = 'message_hour' and resolved_session is not null and experiment_id is not null
        and at is not null and ${fresh}
    ),
    x_pairs as materialized (
      select p.experiment_id, p.participant_id, o.first_session_at as old_at,
             case when exists (select 1 from ${E.from} where ${E.id} = p.experiment_id and ${isExperimentRow(E)}) then
               (select min(${S.createdAt}) filter (where ${countedExperiment(source, S.experimentId)} = p.experiment_id
                                                   and ${platformCounted(S.platform, excluded)})
                from ${S.from} where ${S.participantId} = p.participant_id) end as new_at
      from (select distinct experiment_id, participant_id from pk
            where kind = 'participant' and participant_id is not null and experiment_id is not null and ${fresh}) p
      left join statcache_experiment_participants o
        on o.experiment_id = p.experiment_id and o.participant_id = p.participant_id
    ),
    x_keys as (
      select experiment_id, date_trunc('hour', at, 'UTC') as hour from pk
      where kind in ('message_hour', 'experiment_hour') and experiment_id is not null and at is not null and ${fresh}
      union
      select experiment_id, date_trunc('hour', old_at, 'UTC') from x_pairs where old_at is not null
      union
      select experiment_id, date_trunc('hour', new_at, 'UTC') from x_pairs where new_at is not null
      union
      select b.experiment_id, b.bucket_start
      from x_session_keys k join session_statistics_buckets b on b.session_id = k.session_id
      union
      select e.experiment_id, e.bucket_start
      from x_session_keys k
      join session_statistics_buckets b on b.session_id = k.session_id and b.bucket_size <> 'hour'
      join experiment_statistics_buckets e
        on e.experiment_id = b.experiment_id and e.bucket_size in ('hour', 'day')
       and e.bucket_start >= b.bucket_start and e.bucket_start < b.bucket_end
      union
      select n.experiment_id, date_trunc('hour', n.created_at, 'UTC')
      from x_ts_now n join x_session_keys k on k.session_id = n.session_id
      union
      select n.experiment_id, date_trunc('hour', ${M.createdAt}, 'UTC')
      from x_session_keys k join x_ts_now n on n.session_id = k.session_id
      join ${M.from} on ${M.chatId} = n.chat_id and ${M.type} = 'human'
    ),
    -- Keys of experiments outside the scope (where a touched session was filed before it moved)
    -- are recounted too: harmless, the read joins only its own.
    x_targets as materialized (
      select t.* from (${coveringBucketsSql('experiment', sql`x_keys`)}) t
      where t.experiment_id not in (select experiment_id from x_whole)
    ),
    -- Targets never overlap (each is the stored bucket covering its hours), so an hour lies in at
    -- most one: the target of its hour, day or month, found by equality (a hash join).
    -- The session-key sessions' messages in each target, where they count now.
    x_ts_in_targets as materialized (
      select t.experiment_id, t.bucket_size, t.bucket_start, sum(h.messages) as messages, max(h.last_at) as last_at
      from (
        select experiment_id, 'hour' as bucket_size, hour as bucket_start, messages, last_at from x_ts_hours
        union all
        select experiment_id, 'day', date_trunc('day', hour, 'UTC'), messages, last_at from x_ts_hours
        union all
        select experiment_id, 'month', date_trunc('month', hour, 'UTC'), messages, last_at from x_ts_hours
      ) h
      join x_targets t on t.experiment_id = h.experiment_id and t.bucket_size = h.bucket_size
                      and t.bucket_start = h.bucket_start
      group by 1, 2, 3
    ),
    -- (session, target) pairs a message key makes suspect: only that session's part of that bucket.
    x_stale as materialized (
      select distinct k.session_id, t.experiment_id, t.bucket_size, t.bucket_start, t.bucket_end
      from (
        select session_id, experiment_id, 'hour' as bucket_size, hour as bucket_start from x_msg_keys
        union all
        select session_id, experiment_id, 'day', date_trunc('day', hour, 'UTC') from x_msg_keys
        union all
        select session_id, experiment_id, 'month', date_trunc('month', hour, 'UTC') from x_msg_keys
      ) k
      join x_targets t on t.experiment_id = k.experiment_id and t.bucket_size = k.bucket_size
                      and t.bucket_start = k.bucket_start
      where k.session_id not in (select session_id from x_session_keys)
    ),
    -- Each suspect part counted from source: the session's human messages in the target's range.
    x_stale_in_targets as materialized (
      select z.experiment_id, z.bucket_size, z.bucket_start, sum(n.messages) as messages, max(n.last_at) as last_at
      from x_stale z
      join ${S.from} on ${S.id} = z.session_id
      cross join lateral (
        select count(*) as messages, max(${M.createdAt}) as last_at from ${M.from}
        where ${M.chatId} = ${S.chatId} and ${M.type} = 'human'
          and ${M.createdAt} >= z.bucket_start and ${M.createdAt} < z.bucket_end
      ) n
      where ${countedExperiment(source, S.experimentId)} = z.experiment_id and ${platformCounted(S.platform, excluded)}
      group by 1, 2, 3
    ),
    -- The parts counted from source join by equality (hash joins), not inside the per-target
    -- lateral (a scan of each part per target would grow with their product).
    x_recounted as materialized (
      select t.experiment_id, t.bucket_size, t.bucket_start, t.bucket_end,
             coalesce(v.sessions, 0) as sessions, coalesce(v.participants, 0) as participants,
             case when v.is_row then coalesce(v.messages, 0) + coalesce(w.messages, 0) + coalesce(z.messages, 0)
                  else 0 end as messages,
             case when v.is_row then greatest(v.last_at, w.last_at, z.last_at) end as last_at
      from x_targets t
      left join lateral (${recountSql(source, excluded)}) v on true
      left join x_ts_in_targets w
        on w.experiment_id = t.experiment_id and w.bucket_size = t.bucket_size and w.bucket_start = t.bucket_start
      left join x_stale_in_targets z
        on z.experiment_id = t.experiment_id and z.bucket_size = t.bucket_size and z.bucket_start = t.bucket_start
    ),
    x_moved as (${movedByRecountSql(sql.raw('x_targets'), sql.raw('x_recounted'))}),
    x_whole_live as materialized (
      ${liveExperimentTotalsSql(source, sql`array(select experiment_id from x_whole)`, excluded)}
    ),
    x_overlay as (
      select * from (${totalsAfterSql(sql.raw('x_moved'), sql.raw('x_targets'))}) m
      union all
      select * from x_whole_live
      union all
      -- A whole experiment with nothing left to count reads as zeros, not as its stored totals.
      select experiment_id, 0, 0, 0, null from x_whole
      where experiment_id not in (select experiment_id from x_whole_live)
    )`;
}

/**
 * The values now of target `t` (a row of x_targets): no row unless t's experiment row is an
 * experiment of its own. Sessions created in it (counted); participants whose first counted
 * session is in it (the stored firsts, except pairs with a pending change, recomputed in x_pairs);
 * human messages from the trusted stored session buckets (those filed in it, and coarser ones
 * around it counted from source); x_recounted adds the suspect parts counted now.
 */
function recountSql(source: SourceProfile, excluded: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  const E = relationSql(source, 'experiments', 'e');
  return sql`
        select (select count(*) from ${S.from}
                where ${S.experimentId} = any(${withVersionRows(source, sql`array[t.experiment_id]`)})
                  and ${S.createdAt} >= t.bucket_start and ${S.createdAt} < t.bucket_end
                  and ${platformCounted(S.platform, excluded)}) as sessions,
               (select count(*) from statcache_experiment_participants p
                where p.experiment_id = t.experiment_id
                  and p.first_session_at >= t.bucket_start and p.first_session_at < t.bucket_end
                  and (p.experiment_id, p.participant_id) not in (select experiment_id, participant_id from x_pairs))
               + (select count(*) from x_pairs x
                  where x.experiment_id = t.experiment_id and x.new_at >= t.bucket_start and x.new_at < t.bucket_end)
                 as participants,
               n.messages, n.last_at, true as is_row
        from ${E.from}
        cross join lateral (${storedMessagesInTargetSql(
          source,
          excluded,
          sql`${platformCounted(sql`sb.platform`, excluded)} and ${trusted}`,
          trusted,
        )}) n
        where ${E.id} = t.experiment_id and ${isExperimentRow(E)}`;
}
