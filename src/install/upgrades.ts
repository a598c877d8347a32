/**
 * Upgrades of statcache's own tables that touch many rows, run by `migrate` after the migrations:
 * in bounded batches, each its own short transaction under lock_timeout, resumable (the cursor is
 * saved with each batch in `statcache_upgrades`), with no exclusive lock on a table the dashboard
 * reads. A migration that needs one inserts its row; until it is done, workers and commands refuse
 * to start ("run statcache migrate"), since the rows are not all right yet.
 *
 * 0006_session_bucket_platform: session buckets carry their session's platform. The migration adds
 * the column (NULL, a catalog change); this fills it from the only session table statcache had
 * before 0006 (the demo schema's `experiment_sessions`), drops buckets whose session is gone, then
 * swaps the experiment-range index for one that INCLUDEs the platform (built CONCURRENTLY).
 */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { type LockPolicy, retryOnLock } from './run-steps.js';

/** Session ids per batch: a few thousand sessions' buckets per short transaction. */
export const UPGRADE_BATCH_SESSIONS = 5_000;
export const PLATFORM_UPGRADE = '0006_session_bucket_platform';
const INDEX = 'session_statistics_buckets_experiment_size_start_idx';
const NEW_INDEX = 'session_statistics_buckets_experiment_size_start_v2_idx';

/** Names of the upgrades not done yet ([] on a database without the table, or before migrate). */
export async function pendingUpgrades(db: Pick<StatDb, 'execute'>): Promise<string[]> {
  const [exists] = await queryRows<{ present: boolean }>(
    db,
    sql`select to_regclass('public.statcache_upgrades') is not null as present`,
  );
  if (!exists?.present) return [];
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select name from public.statcache_upgrades where done_at is null order by name`,
  );
  return rows.map((r) => r.name);
}

/** Fills one batch of session buckets' platforms; returns the sessions it covered (0: done). */
async function fillPlatformBatch(conn: StatDb, limit: number): Promise<number> {
  return conn.transaction(async (tx) => {
    const [state] = await queryRows<{ after: unknown; has_sessions: boolean }>(
      tx,
      sql`select after_session_id as after, to_regclass('public.experiment_sessions') is not null as has_sessions
          from statcache_upgrades where name = ${PLATFORM_UPGRADE} for update`,
    );
    if (!state?.has_sessions) return 0;
    const after = toNumber(state.after);
    const [row] = await queryRows<{ sessions: unknown; last: unknown }>(
      tx,
      sql`with batch as (
            select distinct session_id from session_statistics_buckets
            where session_id > ${after} order by session_id limit ${limit}
          ),
          filled as (
            update session_statistics_buckets b set platform = s.platform
            from batch, public.experiment_sessions s
            where b.session_id = batch.session_id and s.id = b.session_id
            returning 1
          ),
          gone as (
            delete from session_statistics_buckets b using batch
            where b.session_id = batch.session_id
              and not exists (select 1 from public.experiment_sessions s where s.id = b.session_id)
            returning 1
          )
          select (select count(*) from batch) as sessions, (select max(session_id) from batch) as last,
                 (select count(*) from filled) + (select count(*) from gone) as touched`,
    );
    const sessions = toNumber(row?.sessions);
    if (sessions > 0)
      await tx.execute(
        sql`update statcache_upgrades set after_session_id = ${toNumber(row?.last)} where name = ${PLATFORM_UPGRADE}`,
      );
    return sessions;
  });
}

/** Replaces the experiment-range index with one that INCLUDEs the platform, without blocking reads. */
async function swapIndex(conn: StatDb, policy: LockPolicy): Promise<void> {
  const step = { table: 'session_statistics_buckets', step: "the session buckets' index with the platform" };
  const indexes = await queryRows<{ name: string; valid: boolean; def: string }>(
    conn,
    sql`select c.relname as name, i.indisvalid as valid, pg_get_indexdef(i.indexrelid) as def
        from pg_index i join pg_class c on c.oid = i.indexrelid
        where c.relname in (${INDEX}, ${NEW_INDEX})`,
  );
  const old = indexes.find((i) => i.name === INDEX);
  const fresh = indexes.find((i) => i.name === NEW_INDEX);
  const run = (statement: string) => retryOnLock(conn, policy, step, () => conn.execute(sql.raw(statement)));
  if (old?.valid && old.def.includes('platform')) {
    if (fresh) await run(`DROP INDEX CONCURRENTLY IF EXISTS ${NEW_INDEX}`);
    return;
  }
  if (fresh && !fresh.valid) await run(`DROP INDEX CONCURRENTLY IF EXISTS ${NEW_INDEX}`);
  if (!fresh?.valid)
    await run(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${NEW_INDEX} ON session_statistics_buckets USING btree (experiment_id, bucket_size, bucket_start) INCLUDE (session_id, human_message_count, last_activity_at, platform)`,
    );
  if (old) await run(`DROP INDEX CONCURRENTLY IF EXISTS ${INDEX}`);
  await run(`ALTER INDEX ${NEW_INDEX} RENAME TO ${INDEX}`);
}

/** Runs every pending upgrade to the end on `conn` (one connection). */
export async function runUpgrades(
  conn: StatDb,
  policy: LockPolicy,
  options: { batchSessions?: number; onBatch?: (sessions: number) => void } = {},
): Promise<void> {
  if (!(await pendingUpgrades(conn)).includes(PLATFORM_UPGRADE)) return;
  const limit = options.batchSessions ?? UPGRADE_BATCH_SESSIONS;
  for (;;) {
    const sessions = await retryOnLock(
      conn,
      policy,
      { table: 'session_statistics_buckets', step: 'filling session buckets with their platform' },
      () => fillPlatformBatch(conn, limit),
    );
    if (sessions === 0) break;
    options.onBatch?.(sessions);
  }
  await swapIndex(conn, policy);
  await conn.execute(sql`update statcache_upgrades set done_at = now() where name = ${PLATFORM_UPGRADE}`);
}
