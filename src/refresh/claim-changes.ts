/**
 * Claims a batch of pending changes into a transaction-scoped temp table, so the recount
 * statements read the keys server-side instead of shipping them to Node and back. The claimed rows
 * are deleted from statcache_changes in the caller's transaction: a failed refresh puts them back.
 */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { countedExperiment, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/** The temp table every recount statement of one batch reads its keys from. */
export const CLAIMED = sql.raw('statcache_claimed');

/** The sessions the batch's `session` keys name (rebuilt whole by the batch). */
export const CLAIMED_WHOLE_SESSIONS = sql`select session_id from ${CLAIMED}
  where kind = 'session' and session_id is not null`;

/** The sessions whose versions the batch's `chat_versions` keys ask to recount from their messages. */
export const CLAIMED_VERSION_SESSIONS = sql`select session_id from ${CLAIMED}
  where kind = 'chat_versions' and session_id is not null and tag_id is null`;

/**
 * (session_id, message_id, tag_id) of the batch's `chat_versions` keys written by new tag links: the
 * tag to add to the session's versions, and the linked message that witnesses it.
 */
export const CLAIMED_ADDED_TAGS = sql`select session_id, message_id, tag_id from ${CLAIMED}
  where kind = 'chat_versions' and session_id is not null and tag_id is not null`;

export interface ClaimSummary {
  changes: number;
  /** A TRUNCATE happened: only a full rebuild can tell what remains. */
  all: boolean;
  /** Experiments to rebuild whole (deleted, or moved to another team). */
  wholeExperiments: number[];
  /**
   * Claimed keys of each kind the batch's steps read, so a step with none to read is not run
   * (`messageHour`: those of sessions not also rebuilt whole, the only ones its recount reads).
   */
  keys: { session: number; messageHour: number; participant: number; chatVersions: number };
}

/**
 * Which change rows a claim takes: ids in (afterId, maxId], optionally only the kinds a run queues
 * for its own second pass (deferred `experiment_hour` recounts, and the `session` keys of sessions a
 * whole-experiment rebuild unfiled: deleteScopeBuckets).
 */
export interface ClaimRange {
  afterId: number;
  maxId: number;
  queuedKindsOnly: boolean;
}

/**
 * Deletes up to `limit` change rows in `range` (skipping rows another refresh holds) into
 * statcache_claimed(kind, experiment_id, session_id, participant_id, at, message_id, tag_id, n,
 * current_experiment_id),
 * resolving chats the trigger could not resolve to their session as it is now, and each session to
 * its current experiment (to lock it), in `source`'s sessions table. Parameters: $1 after id, $2 max
 * id, $3 limit.
 */
export async function claimChanges(
  tx: Executor,
  range: ClaimRange,
  limit: number,
  source: SourceProfile,
): Promise<ClaimSummary> {
  const S = relationSql(source, 'sessions', 's');
  const Cur = relationSql(source, 'sessions', 'cur');
  const kindFilter = range.queuedKindsOnly ? sql`and kind in ('experiment_hour', 'session')` : sql``;
  await tx.execute(sql`
    create temp table ${CLAIMED} on commit drop as
    with claimed as (
      -- By the locked rows' ctids (a TID scan: no index probe per row, and never a hash of the
      -- whole queue, whose statistics are always stale: it is a queue). A row this statement has
      -- locked cannot move: change rows are never updated, and a locked row is not vacuumed.
      delete from statcache_changes where ctid = any(array(
        select ctid from statcache_changes where id > ${range.afterId} and id <= ${range.maxId} ${kindFilter}
        order by id limit ${limit} for update skip locked))
      returning kind, chat_id, experiment_id, session_id, participant_id, at, message_id, tag_id
    ),
    -- The same key is often written by several statements: resolve and recount it once.
    keys as (
      select kind, chat_id, experiment_id, session_id, participant_id, at, message_id, tag_id, count(*) as n
      from claimed group by kind, chat_id, experiment_id, session_id, participant_id, at, message_id, tag_id
    )
    select c.kind,
           -- A key naming a published-version row counts under the experiment it is a version of;
           -- except an 'experiment' key, which names the row that changed (the trigger adds the rows
           -- it is and was a version of): a row that became a version must lose its own buckets.
           -- A key resolved through its chat has its session's counted experiment already.
           case when c.kind = 'experiment' then c.experiment_id
                when c.experiment_id is null then s.experiment_id
                else ${countedExperiment(source, sql`c.experiment_id`)} end as experiment_id,
           coalesce(c.session_id, s.id) as session_id,
           c.participant_id, c.at, c.message_id, c.tag_id, c.n,
           coalesce(cur.experiment_id, s.experiment_id) as current_experiment_id
    from keys c
    -- Correlated index lookups, so claiming costs the same whatever the number of sessions (OFFSET 0
    -- keeps PostgreSQL from flattening them into hash joins over the whole sessions table, which
    -- the queue's stale row estimates made it pick: 40 ms of a 120 ms refresh at 1M).
    -- Keys written without a session (new messages, versions) resolve it as it is now; keys whose
    -- trigger resolved it look up where that session is now, to lock that experiment too.
    left join lateral (
      select ${S.id} as id, ${countedExperiment(source, S.experimentId)} as experiment_id from ${S.from}
      where c.chat_id is not null and c.session_id is null and ${S.chatId} = c.chat_id
      offset 0
    ) s on true
    left join lateral (
      select ${countedExperiment(source, Cur.experimentId)} as experiment_id from ${Cur.from}
      where c.kind in ('session', 'message_hour') and c.session_id is not null and ${Cur.id} = c.session_id
      offset 0
    ) cur on true`);
  const [row] = await queryRows<{
    changes: unknown;
    all: boolean;
    whole: unknown[] | null;
    session: unknown;
    message_hour: unknown;
    participant: unknown;
    chat_versions: unknown;
  }>(
    tx,
    sql`select coalesce(sum(n), 0) as changes, bool_or(kind = 'all') as all,
               array_agg(distinct experiment_id) filter (where kind = 'experiment' and experiment_id is not null) as whole,
               count(*) filter (where kind = 'session') as session,
               -- Hours of sessions the batch rebuilds whole are in the rebuild: none left to recount.
               count(*) filter (where kind = 'message_hour' and session_id not in (${CLAIMED_WHOLE_SESSIONS})) as message_hour,
               count(*) filter (where kind = 'participant') as participant,
               count(*) filter (where kind = 'chat_versions') as chat_versions
        from ${CLAIMED}`,
  );
  return {
    changes: toNumber(row?.changes),
    all: row?.all ?? false,
    wholeExperiments: (row?.whole ?? []).map(toNumber),
    keys: {
      session: toNumber(row?.session),
      messageHour: toNumber(row?.message_hour),
      participant: toNumber(row?.participant),
      chatVersions: toNumber(row?.chat_versions),
    },
  };
}

/** Takes the refresh locks of every experiment the batch may write, in one statement. */
export async function lockClaimedExperiments(tx: Executor): Promise<void> {
  await tx.execute(sql`select statcache_lock_experiments(array(
    select experiment_id from ${CLAIMED} where experiment_id is not null
    union
    select current_experiment_id from ${CLAIMED} where current_experiment_id is not null))`);
}
