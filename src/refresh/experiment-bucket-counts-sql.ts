/**
 * The counts of a recounted experiment bucket, from source and from the session buckets the same
 * transaction has just recomputed: the body of recomputeExperimentBuckets' `computed` CTE.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';

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
function countedIn(excluded: SQL): SQL {
  return sql`case when sb.session_id in (select session_id from pending_sessions)
      then exists (select 1 from experiment_sessions s where s.id = sb.session_id
                     and s.experiment_id = t.experiment_id and s.platform <> all(${excluded}))
      else sb.platform <> all(${excluded}) end`;
}

const sizeLiteral = (size: BucketSize) => sql.raw(`'${size}'`);

/**
 * Session buckets of one size filed under t's experiment, inside t (`start` says how). One union
 * branch per size, so every probe is an index range on (experiment_id, bucket_size, bucket_start);
 * `when` (on t alone) only switches a branch on or off.
 */
function filedInRange(size: BucketSize, when: SQL, start: SQL, excluded: SQL): SQL {
  return sql`
          select sb.human_message_count as messages, sb.last_activity_at as last_at
          from session_statistics_buckets sb
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sizeLiteral(size)}
            and ${start} and ${countedIn(excluded)}`;
}

/**
 * A session whose bucket of `size` is coarser than t and around it: its human messages inside t,
 * counted from source. Exact index probes that find nothing unless such a bucket exists.
 */
function coarserAround(size: BucketSize, when: SQL, excluded: SQL): SQL {
  return sql`
          select count(m.*) as messages, max(m.created_at) as last_at
          from session_statistics_buckets sb
          join experiment_sessions s on s.id = sb.session_id and s.experiment_id = t.experiment_id
                                    and s.platform <> all(${excluded})
          join chat_messages m on m.chat_id = s.chat_id and m.message_type = 'human'
                               and m.created_at >= t.bucket_start and m.created_at < t.bucket_end
          where ${when} and sb.experiment_id = t.experiment_id and sb.bucket_size = ${sizeLiteral(size)}
            and sb.bucket_start = date_trunc(${sizeLiteral(size)}, t.bucket_start, 'UTC')`;
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
export function experimentBucketCountsSql(excluded: SQL): SQL {
  const startsInRange = sql`sb.bucket_start >= t.bucket_start and sb.bucket_start < t.bucket_end`;
  return sql`
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
          ${filedInRange('hour', sql`true`, startsInRange, excluded)}
          union all
          ${filedInRange('day', sql`t.bucket_size <> 'hour'`, startsInRange, excluded)}
          union all
          ${filedInRange('month', sql`t.bucket_size = 'month'`, sql`sb.bucket_start = t.bucket_start`, excluded)}
          union all
          ${coarserAround('day', sql`t.bucket_size = 'hour'`, excluded)}
          union all
          ${coarserAround('month', sql`t.bucket_size <> 'month'`, excluded)}
        ) part
      ) n`;
}
