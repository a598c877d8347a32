/**
 * statcache_refresh_runs: one row per refresh or rebuild that did something. `status` reads the
 * newest as "last refresh"; the newest unscoped full rebuild marks the cache as built. Rows older
 * than REFRESH_RUNS_KEPT are pruned as new ones are written (a worker adds up to one a minute).
 */
import { type SQL, sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, queryRows } from '../db/types.js';

/** How long finished runs are kept: a week of history for `status` and for debugging. */
export const REFRESH_RUNS_KEPT = sql.raw("interval '7 days'");

/** True once an unscoped full rebuild was recorded: the cache holds all history. */
export const FULL_BUILD_RECORDED: SQL = sql`exists (
  select 1 from statcache_refresh_runs where mode = 'full' and experiment_ids is null)`;

export interface RefreshRunRecord {
  mode: 'full' | 'incremental';
  experimentIds: readonly number[] | null;
  startedAt: Date;
  experiments: number;
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/**
 * Records a finished run and prunes runs older than REFRESH_RUNS_KEPT, except the newest unscoped
 * full rebuild (FULL_BUILD_RECORDED must stay true). One statement: it reads the table as it was
 * before its own insert, so an old full rebuild goes with the run after the one that replaced it.
 */
export async function recordRefreshRun(db: Executor, run: RefreshRunRecord): Promise<void> {
  await db.execute(sql`
    with recorded as (
      insert into statcache_refresh_runs
        (mode, experiment_ids, started_at, finished_at, experiments, experiment_buckets, session_buckets, versions_updated)
      values (${run.mode}, ${run.experimentIds ? bigintArray(run.experimentIds) : null}, ${run.startedAt.toISOString()}::timestamptz, now(),
              ${run.experiments}, ${run.experimentBuckets}, ${run.sessionBuckets}, ${run.versionsUpdated})
      returning id
    )
    delete from statcache_refresh_runs r
    where r.finished_at < now() - ${REFRESH_RUNS_KEPT}
      and r.id is distinct from (
        select b.id from statcache_refresh_runs b where b.mode = 'full' and b.experiment_ids is null
        order by b.finished_at desc, b.id desc limit 1)`);
}

/** Whether the cache was ever fully built (see FULL_BUILD_RECORDED). */
export async function fullBuildRecorded(db: Executor): Promise<boolean> {
  const [row] = await queryRows<{ built: boolean }>(db, sql`select ${FULL_BUILD_RECORDED} as built`);
  return row?.built ?? false;
}

/**
 * Records that every change captured before `at` (the start of a refresh that just finished) has
 * been applied, except those still pending: statcache_refresh_state, kept at the latest such instant.
 */
export async function recordUpToDate(db: Executor, at: Date): Promise<void> {
  await db.execute(sql`
    insert into statcache_refresh_state (id, refreshed_at) values (1, ${at.toISOString()}::timestamptz)
    on conflict (id) do update set refreshed_at = greatest(statcache_refresh_state.refreshed_at, excluded.refreshed_at)`);
}
