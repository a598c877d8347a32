/**
 * Claims a batch of pending changes (deleted in the caller's transaction, so a failed refresh puts
 * them back) and resolves them into the work the refresh must do.
 */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';
import type { ChangeKind } from '../schema/cache-tables.js';

/** Keyed sets of what to recompute; instants are ISO strings (the refresh maps them to buckets). */
export interface RefreshWork {
  changes: number;
  /** A TRUNCATE happened: only a full rebuild can tell what remains. */
  all: boolean;
  wholeExperiments: Set<number>;
  /** "experimentId|instant" */
  experimentHours: Set<string>;
  /** "sessionId|instant" */
  sessionHours: Set<string>;
  wholeSessions: Set<number>;
  versionSessions: Set<number>;
  /** "experimentId|participantId" */
  participants: Set<string>;
  /** Every experiment whose buckets this batch may write: lock them all first. */
  lockExperiments: Set<number>;
}

interface ClaimedRow {
  kind: ChangeKind;
  experiment_id: unknown;
  session_id: unknown;
  participant_id: unknown;
  at: unknown;
  current_experiment_id: unknown;
}

/**
 * Deletes up to `limit` change rows with id ≤ `maxId` (skipping rows another refresh holds) and
 * resolves chats the trigger could not resolve to their sessions as they are now, and each
 * session to its current experiment (to lock it). One statement.
 * Parameters: $1 max id, $2 limit.
 */
export async function claimChanges(tx: Executor, maxId: number, limit: number): Promise<RefreshWork> {
  const rows = await queryRows<ClaimedRow>(
    tx,
    sql`
    with claimed as (
      delete from statcache_changes where id in (
        select id from statcache_changes where id <= ${maxId} order by id limit ${limit} for update skip locked)
      returning kind, chat_id, experiment_id, session_id, participant_id, at
    )
    select c.kind,
           coalesce(c.experiment_id, s.experiment_id) as experiment_id,
           coalesce(c.session_id, s.id) as session_id,
           c.participant_id, c.at,
           cur.experiment_id as current_experiment_id
    from claimed c
    -- Correlated index lookups, so claiming costs the same whatever the number of sessions.
    left join lateral (
      select s.id, s.experiment_id from experiment_sessions s
      where c.chat_id is not null and (c.session_id is null or c.kind = 'chat_versions') and s.chat_id = c.chat_id
    ) s on true
    left join lateral (
      select cur.experiment_id from experiment_sessions cur
      where c.kind in ('session', 'message_hour') and cur.id = coalesce(c.session_id, s.id)
    ) cur on true`,
  );
  const work: RefreshWork = {
    changes: rows.length,
    all: false,
    wholeExperiments: new Set(),
    experimentHours: new Set(),
    sessionHours: new Set(),
    wholeSessions: new Set(),
    versionSessions: new Set(),
    participants: new Set(),
    lockExperiments: new Set(),
  };
  for (const row of rows) addRow(work, row);
  return work;
}

function addRow(work: RefreshWork, row: ClaimedRow): void {
  const experimentId = row.experiment_id === null ? null : toNumber(row.experiment_id);
  const sessionId = row.session_id === null ? null : toNumber(row.session_id);
  const at = toDate(row.at)?.toISOString();
  if (experimentId !== null) work.lockExperiments.add(experimentId);
  switch (row.kind) {
    case 'all':
      work.all = true;
      return;
    case 'experiment':
      if (experimentId !== null) work.wholeExperiments.add(experimentId);
      return;
    case 'message_hour':
      // A chat without a session (yet, or any more) counts nowhere; the session trigger covers it.
      if (experimentId === null || sessionId === null || !at) return;
      // The session may have moved since: its buckets are written under its current experiment.
      if (row.current_experiment_id !== null) work.lockExperiments.add(toNumber(row.current_experiment_id));
      work.experimentHours.add(`${experimentId}|${at}`);
      work.sessionHours.add(`${sessionId}|${at}`);
      return;
    case 'chat_versions':
      if (sessionId !== null) work.versionSessions.add(sessionId);
      return;
    case 'experiment_hour':
      if (experimentId !== null && at) work.experimentHours.add(`${experimentId}|${at}`);
      return;
    case 'participant':
      if (experimentId !== null && row.participant_id !== null) {
        work.participants.add(`${experimentId}|${toNumber(row.participant_id)}`);
      }
      return;
    case 'session':
      if (sessionId !== null) work.wholeSessions.add(sessionId);
      if (row.current_experiment_id !== null) work.lockExperiments.add(toNumber(row.current_experiment_id));
      return;
  }
}

/** Splits "a|b" keys into two parallel arrays. */
export function splitKeys<A, B>(
  keys: Iterable<string>,
  left: (s: string) => A,
  right: (s: string) => B,
): [A[], B[]] {
  const as: A[] = [];
  const bs: B[] = [];
  for (const key of keys) {
    const bar = key.indexOf('|');
    as.push(left(key.slice(0, bar)));
    bs.push(right(key.slice(bar + 1)));
  }
  return [as, bs];
}
