/**
 * What a worker process is doing in PostgreSQL, read from pg_stat_activity and pg_locks, so process
 * tests act on a refresh batch they can see (and can hold in flight) instead of guessing with time.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { EXPERIMENT_LOCK_SLOTS, LOCK_SPACE } from '../../src/db/advisory-locks.js';
import { queryRows, type StatDb, toNumber } from '../../src/db/types.js';

/** The application_name the worker's pool connects with (jobs/worker.ts). */
export const WORKER_APPLICATION_NAME = 'statcache-worker';

/**
 * The experiment advisory locks (statcache_lock_experiments: key pair LOCK_SPACE, slot) as pg_locks
 * shows them: an advisory lock on two int4 keys has classid = first, objid = second, objsubid = 2.
 */
const EXPERIMENT_LOCK = sql`l.locktype = 'advisory' and l.classid = ${LOCK_SPACE}::oid
  and l.objid < ${EXPERIMENT_LOCK_SLOTS}::oid and l.objsubid = 2`;

/** A worker backend of this database with a transaction open. */
const WORKER_IN_TRANSACTION = sql`a.datname = current_database()
  and a.application_name = ${WORKER_APPLICATION_NAME} and a.xact_start is not null`;

/**
 * Worker backends whose refresh batch is applying right now: an open transaction holding experiment
 * advisory locks (taken after the claim, released at commit). Resolves with their pids.
 */
export async function workerBatchesApplying(db: StatDb): Promise<number[]> {
  const rows = await queryRows<{ pid: unknown }>(
    db,
    sql`select distinct a.pid from pg_stat_activity a join pg_locks l on l.pid = a.pid
        where ${WORKER_IN_TRANSACTION} and ${EXPERIMENT_LOCK} and l.granted`,
  );
  return rows.map((r) => toNumber(r.pid));
}

/**
 * Worker backends held mid-batch by {@link holdExperimentLocks}: a transaction that has claimed change
 * rows (its DELETE holds RowExclusiveLock on statcache_changes, uncommitted) and waits for an
 * experiment lock. Resolves with their pids.
 */
export async function workerBatchesHeldMidClaim(db: StatDb): Promise<number[]> {
  const rows = await queryRows<{ pid: unknown }>(
    db,
    sql`select a.pid from pg_stat_activity a
        where ${WORKER_IN_TRANSACTION}
          and exists (select 1 from pg_locks l where l.pid = a.pid and ${EXPERIMENT_LOCK} and not l.granted)
          and exists (select 1 from pg_locks l where l.pid = a.pid and l.granted and l.mode = 'RowExclusiveLock'
                        and l.relation = 'statcache_changes'::regclass)`,
  );
  return rows.map((r) => toNumber(r.pid));
}

/** Whether backend `pid` is still connected to PostgreSQL. */
export async function backendAlive(db: StatDb, pid: number): Promise<boolean> {
  const rows = await queryRows(db, sql`select 1 from pg_stat_activity where pid = ${pid}`);
  return rows.length > 0;
}

export interface HeldLocks {
  /** Ends the holding transaction, letting blocked refreshes go on. Idempotent. */
  release(): Promise<void>;
}

/**
 * Takes the experiment locks of every experiment in the database in a transaction of its own (the
 * way a refresh does, through statcache_lock_experiments), so any refresh batch claims its changes
 * and then waits, in flight, until `release()`.
 */
export async function holdExperimentLocks(url: string): Promise<HeldLocks> {
  const client = new pg.Client({ connectionString: url, application_name: 'statcache-test-lock-holder' });
  // Dropping the database at the end of a failed test terminates this connection: not a crash.
  client.on('error', () => {});
  await client.connect();
  await client.query('begin');
  await client.query('select statcache_lock_experiments(array(select id from experiments))');
  let released: Promise<void> | undefined;
  return {
    release: () => {
      released ??= client.query('rollback').then(
        () => client.end(),
        () => client.end(),
      );
      return released;
    },
  };
}
