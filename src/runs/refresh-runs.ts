/** Appends one row to statcache_refresh_runs, which `status` reads as "last refresh". */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import type { Executor } from '../db/types.js';

export interface RefreshRunRecord {
  mode: 'full' | 'incremental';
  experimentIds: readonly number[] | null;
  startedAt: Date;
  experiments: number;
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/** Records a finished refresh run. */
export async function recordRefreshRun(db: Executor, run: RefreshRunRecord): Promise<void> {
  await db.execute(sql`
    insert into statcache_refresh_runs
      (mode, experiment_ids, started_at, finished_at, experiments, experiment_buckets, session_buckets, versions_updated)
    values (${run.mode}, ${run.experimentIds ? bigintArray(run.experimentIds) : null}, ${run.startedAt.toISOString()}::timestamptz, now(),
            ${run.experiments}, ${run.experimentBuckets}, ${run.sessionBuckets}, ${run.versionsUpdated})`);
}
