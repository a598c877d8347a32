/**
 * The counts of a recounted experiment bucket, from source and from the session buckets the same
 * transaction has just recomputed: the body of recomputeExperimentBuckets' `computed` CTE.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import {
  countedExperiment,
  isExperimentRow,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Sessions still waiting for a `session` change (from the partial index on session changes). Rows
 * other refreshes have claimed but not committed are still visible, which is what makes their
 * sessions' buckets suspect.
 */
export const PENDING_SESSIONS = sql`
  select distinct session_id from statcache_changes where kind = 'session' and session_id is not null`;

/**
 * Whether session bucket `sb` counts in experiment bucket `t`. A bucket is trusted as filed (its
 * experiment, and its platform not excluded) unless its session has a session change pending:
 * only a session change (a move, a platform change, a delete) can leave a bucket filed where its
 * session no longer is, and until the refresh that applies it commits, its row stays visible here
 * (this transaction's own claims were applied before this statement, and are gone). Those sessions
 * are checked against their row as it is now. Without this, a refresh recounting the old
 * experiment while another applies the move would count the session there for good.
 */
function countedIn(excluded: SQL, source: SourceProfile): SQL {
  const S = relationSql(source, 'sessions', 's');
  return sql`case when sb.session_id in (select session_id from pending_sessions)
      then exists (select 1 from ${S.from} where ${S.id} = sb.session_id
                     and ${countedExperiment(source, S.experimentId)} = t.experiment_id
                     and ${platformCounted(S.platform, excluded)})
      else ${platformCounted(sql`sb.platform`, excluded)} end`;
}

const sizeLiteral = (size: BucketSize) => sql.raw(`'${size}'`);

/**
 * Session buckets of one size filed under t's experiment, inside t (`start` says how), that
 * `counts`. One union branch per size, so every probe is an index range on (experiment_id,
 * bucket_size, bucket_start); `when` (on t alone) only switches a branch on or off.
 */
function filedInRange(size: BucketSize, when: SQL, start: SQL, counts: SQL): SQL {
  return sql`
          select sb.human_message_count as messages, sb.last_activity_at as last_at
          from session_statistics_buckets sb
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sizeLiteral(size)}
            and ${start} and ${counts}`;
}

/**
 * A session whose bucket of `size` is coarser than t and around it (and for which `also` holds):
 * its human messages inside t, counted from source. Exact index probes that find nothing unless
 * such a bucket exists.
 */
function coarserAround(size: BucketSize, when: SQL, excluded: SQL, source: SourceProfile, also: SQL): SQL {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  return sql`
          select count(*) as messages, max(${M.createdAt}) as last_at
          from session_statistics_buckets sb
          join ${S.from} on ${S.id} = sb.session_id and ${countedExperiment(source, S.experimentId)} = t.experiment_id
                        and ${platformCounted(S.platform, excluded)}
          join ${M.from} on ${M.chatId} = ${S.chatId} and ${M.type} = 'human'
                        and ${M.createdAt} >= t.bucket_start and ${M.createdAt} < t.bucket_end
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sizeLiteral(size)}
            and sb.bucket_start = date_trunc(${sizeLiteral(size)}, t.bucket_start, 'UTC') and ${also}`;
}

/**
 * A SELECT of (messages, last_at) for target `t` (a correlated row with experiment_id,
 * bucket_size, bucket_start, bucket_end): the sum and latest of the stored session buckets filed in
 * it for which `counts` holds, plus the messages in it, from source, of sessions whose coarser
 * bucket lies around it (for which `also` holds). The refresh passes its filing check (countedIn);
 * a fresh read its trust in the bucket (src/read/fresh/experiment-overlay-sql.ts).
 */
export function storedMessagesInTargetSql(
  source: SourceProfile,
  excluded: SQL,
  counts: SQL,
  also: SQL = sql`true`,
): SQL {
  const startsInRange = sql`sb.bucket_start >= t.bucket_start and sb.bucket_start < t.bucket_end`;
  return sql`
        select coalesce(sum(part.messages), 0)::bigint as messages, max(part.last_at) as last_at
        from (
          ${filedInRange('hour', sql`true`, startsInRange, counts)}
          union all
          ${filedInRange('day', sql`t.bucket_size <> 'hour'`, startsInRange, counts)}
          union all
          ${filedInRange('month', sql`t.bucket_size = 'month'`, sql`sb.bucket_start = t.bucket_start`, counts)}
          union all
          ${coarserAround('day', sql`t.bucket_size = 'hour'`, excluded, source, also)}
          union all
          ${coarserAround('month', sql`t.bucket_size <> 'month'`, excluded, source, also)}
        ) part`;
}

/**
 * Every column of `targets t` plus team_id, sessions, participants, messages and last_at.
 * Sessions come from experiment_sessions(experiment_id, created_at); participants from
 * statcache_experiment_participants(experiment_id, first_session_at); human messages are the sum
 * of the counted sessions' buckets inside the range (exact: those of every session this batch
 * touches were recomputed earlier in the transaction), read from the index on session buckets that
 * includes session, count, last activity and platform, plus the coarser-around branches. This
 * keeps a late message into a compressed day or month from re-reading the whole period's traffic.
 */
export function experimentBucketCountsSql(excluded: SQL, source: SourceProfile): SQL {
  const S = relationSql(source, 'sessions', 's');
  const E = relationSql(source, 'experiments', 'e');
  return sql`
      select t.*, ${E.teamId} as team_id,
             (select count(*) from ${S.from}
              where ${S.experimentId} = any(${withVersionRows(source, sql`array[t.experiment_id]`)}) and ${S.createdAt} >= t.bucket_start and ${S.createdAt} < t.bucket_end
                and ${platformCounted(S.platform, excluded)}) as sessions,
             (select count(*) from statcache_experiment_participants p
              where p.experiment_id = t.experiment_id
                and p.first_session_at >= t.bucket_start and p.first_session_at < t.bucket_end) as participants,
             n.messages, n.last_at
      from targets t
      -- A target that is not an experiment row (any longer) computes nothing, so its buckets go.
      join ${E.from} on ${E.id} = t.experiment_id and ${isExperimentRow(E)}
      cross join lateral (${storedMessagesInTargetSql(source, excluded, countedIn(excluded, source))}) n`;
}
