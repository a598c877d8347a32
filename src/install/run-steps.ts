/**
 * Runs install steps without ever queueing behind a long transaction while everyone else queues
 * behind us: every statement runs under a short `lock_timeout`; a step that could not get its lock
 * is retried with backoff (after undoing what an interrupted concurrent build left), and if it still
 * cannot, LockTimeoutError names the table and the sessions holding it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { LockTimeoutError } from '../errors/error-classes.js';
import { errorCode } from '../errors/error-kind.js';
import type { InstallStep } from './install-plan.js';

export interface LockPolicy {
  /** How long one statement may wait for a lock (and so how long it can hold writers up). */
  timeoutMs: number;
  /** Attempts per step before giving up. */
  attempts: number;
  /** Wait before the second attempt; doubled for each next one. */
  backoffMs: number;
}

/** 500 ms: a writer that queues behind a waiting `migrate` is never held up for a second. */
export const DEFAULT_LOCK_POLICY: LockPolicy = { timeoutMs: 500, attempts: 6, backoffMs: 250 };

/** lock_not_available: the statement gave up waiting for a lock (lock_timeout). */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Runs `fn` on `conn` with lock_timeout set and no statement_timeout (an index on a large table
 * takes as long as it takes; while it builds CONCURRENTLY writers go on), and puts the
 * connection's settings back after.
 */
export async function withLockTimeout<T>(conn: StatDb, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  await conn.execute(sql.raw(`SET lock_timeout = ${Math.max(1, Math.floor(timeoutMs))}`));
  await conn.execute(sql`SET statement_timeout = 0`);
  try {
    return await fn();
  } finally {
    await conn.execute(sql`RESET lock_timeout`);
    await conn.execute(sql`RESET statement_timeout`);
  }
}

/**
 * Runs `attempt` until it does not fail on a lock, at most `policy.attempts` times, waiting
 * between tries; `beforeRetry` (the cleanup of a failed try, e.g. dropping the INVALID index an
 * interrupted CREATE INDEX CONCURRENTLY left) runs before each retry, under the same lock_timeout:
 * a cleanup that fails on a lock counts as a failed try too. Gives up with LockTimeoutError for
 * `table` (an INVALID index left then is dropped by the next migrate).
 */
export async function retryOnLock<T>(
  conn: StatDb,
  policy: LockPolicy,
  what: { table: string; step: string },
  attempt: () => Promise<T>,
  beforeRetry: () => Promise<void> = async () => {},
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      if (n > 1) await withLockTimeout(conn, policy.timeoutMs, beforeRetry);
      return await withLockTimeout(conn, policy.timeoutMs, attempt);
    } catch (error) {
      if (errorCode(error) !== LOCK_NOT_AVAILABLE) throw error;
      if (n >= policy.attempts)
        throw new LockTimeoutError(
          what.table,
          what.step,
          await lockHolders(conn, what.table),
          policy.attempts,
          policy.timeoutMs,
        );
      await sleep(policy.backoffMs * 2 ** (n - 1));
    }
  }
}

/** Runs each step in order on `conn` (one connection: its lock_timeout is set per step). */
export async function runSteps(
  conn: StatDb,
  steps: readonly InstallStep[],
  policy: LockPolicy,
): Promise<void> {
  for (const step of steps) {
    const run = async () => {
      if (step.transaction)
        await conn.transaction(async (tx) => {
          for (const statement of step.statements) await tx.execute(sql.raw(statement));
        });
      else for (const statement of step.statements) await conn.execute(sql.raw(statement));
    };
    const undo = async () => {
      for (const statement of step.beforeRetry ?? []) await conn.execute(sql.raw(statement));
    };
    await retryOnLock(conn, policy, { table: step.lock?.table ?? 'statcache', step: step.what }, run, undo);
  }
}

/** The other sessions holding a lock on `table`, one line each: pid, application, state, since when, query. */
async function lockHolders(conn: StatDb, table: string): Promise<string[]> {
  const rows = await queryRows<{
    pid: unknown;
    application: string | null;
    state: string | null;
    mode: string;
    seconds: unknown;
    query: string | null;
  }>(
    conn,
    sql`select l.pid, a.application_name as application, a.state, l.mode,
               round(extract(epoch from now() - coalesce(a.xact_start, a.backend_start)))::int as seconds,
               left(regexp_replace(a.query, '\\s+', ' ', 'g'), 80) as query
        from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'relation' and l.relation = to_regclass(${table}) and l.granted
          and l.pid <> pg_backend_pid()
        order by a.xact_start nulls last, l.pid
        limit 5`,
  );
  return rows.map(
    (r) =>
      `session ${toNumber(r.pid)} (${r.application || 'no application name'}, ${r.state ?? 'unknown state'} for ${toNumber(r.seconds)} s, ${r.mode}${r.query ? `, last query: ${r.query}` : ''})`,
  );
}
