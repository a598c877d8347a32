/**
 * How far a read replica (DATABASE_READ_URL) is behind its primary, as the replica itself sees it:
 * whether it replayed all the WAL it received while its WAL receiver is connected, and if not, how
 * old the last transaction it replayed is. One SELECT of functions any role may call, on the replica.
 */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb, toDate } from '../db/types.js';

export interface ReplicaStatus {
  /** Where the replica is: host:port/database of DATABASE_READ_URL (no password). */
  target: string;
  /** Whether it is a standby (pg_is_in_recovery()); false means DATABASE_READ_URL names a primary. */
  inRecovery: boolean;
  /**
   * Streaming from its primary and everything received is replayed (pg_last_wal_receive_lsn() =
   * pg_last_wal_replay_lsn()); always true for a server that is not a standby.
   */
  caughtUp: boolean;
  /**
   * 0 when caught up; otherwise the age of the last replayed transaction (now() -
   * pg_last_xact_replay_timestamp(), an upper bound: it also counts time the primary was idle), or
   * null when it has replayed none since it started.
   */
  lagSeconds: number | null;
  /** When the last transaction it replayed committed on the primary; null if none yet. */
  replayedAt: Date | null;
}

/** Reads the replica's own view of its lag, in one statement on `db` (the replica's pool). */
export async function getReplicaStatus(db: StatDb, target: string): Promise<ReplicaStatus> {
  const [row] = await queryRows<{
    in_recovery: boolean;
    caught_up: boolean | null;
    replayed_at: unknown;
    since_replay: unknown;
  }>(
    db,
    sql`select pg_is_in_recovery() as in_recovery,
               not pg_is_in_recovery()
                 or (exists (select 1 from pg_stat_wal_receiver where coalesce(status, 'streaming') = 'streaming')
                     and pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()) as caught_up,
               pg_last_xact_replay_timestamp() as replayed_at,
               extract(epoch from now() - pg_last_xact_replay_timestamp()) as since_replay`,
  );
  const caughtUp = row?.caught_up === true;
  const since =
    row?.since_replay === null || row?.since_replay === undefined ? null : Number(row.since_replay);
  return {
    target,
    inRecovery: row?.in_recovery === true,
    caughtUp,
    lagSeconds: caughtUp ? 0 : since === null ? null : Math.max(0, Math.round(since * 1000) / 1000),
    replayedAt: toDate(row?.replayed_at),
  };
}

/** The `replica` and `replicaError` fields of `status --json` and /api/status. */
export interface ReplicaReport {
  /** Null without DATABASE_READ_URL, or when the replica could not be read (see replicaError). */
  replica: ReplicaStatus | null;
  /** Why the replica could not be read (one line naming DATABASE_READ_URL and host:port), or null. */
  replicaError: string | null;
}

/**
 * The report on `replica` (none: both fields null): its status, or the error reading it, so the
 * rest of a status report still shows.
 */
export async function replicaReport(replica?: { db: StatDb; target: string }): Promise<ReplicaReport> {
  if (!replica) return { replica: null, replicaError: null };
  try {
    return { replica: await getReplicaStatus(replica.db, replica.target), replicaError: null };
  } catch (error) {
    const own = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const message = own instanceof Error ? own.message : String(own);
    return { replica: null, replicaError: message.split('\n')[0] ?? message };
  }
}
