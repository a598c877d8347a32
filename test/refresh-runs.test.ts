/**
 * statcache_refresh_runs is pruned as runs are recorded (a week kept, never the newest unscoped full
 * rebuild, which marks the cache as built), and the advisory lock keys declared in
 * src/db/advisory-locks.ts are the ones the migrated lock function takes.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { EXPERIMENT_LOCK_SLOTS, LOCK_SPACE } from '../src/db/advisory-locks.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { fullBuildRecorded, recordRefreshRun } from '../src/runs/refresh-runs.js';
import { useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase();

const run = (mode: 'full' | 'incremental', experimentIds: number[] | null = null) => ({
  mode,
  experimentIds,
  startedAt: new Date(),
  experiments: 0,
  experimentBuckets: 0,
  sessionBuckets: 0,
  versionsUpdated: 0,
});

async function runs(): Promise<{ mode: string; scoped: boolean; ageDays: number }[]> {
  const rows = await queryRows<Record<string, unknown>>(
    t.db,
    sql`select mode, experiment_ids is not null as scoped,
               round(extract(epoch from now() - finished_at) / 86400) as age_days
        from statcache_refresh_runs order by finished_at, id`,
  );
  return rows.map((r) => ({
    mode: String(r.mode),
    scoped: Boolean(r.scoped),
    ageDays: toNumber(r.age_days),
  }));
}

describe('refresh runs', () => {
  it('keeps a week of runs and the newest unscoped full rebuild, however old', async () => {
    await t.db.execute(sql`
      insert into statcache_refresh_runs
        (mode, experiment_ids, started_at, finished_at, experiments, experiment_buckets, session_buckets, versions_updated)
      values ('full', null, now() - interval '40 days', now() - interval '40 days', 0, 0, 0, 0),
             ('full', null, now() - interval '30 days', now() - interval '30 days', 0, 0, 0, 0),
             ('full', '{1}', now() - interval '20 days', now() - interval '20 days', 0, 0, 0, 0),
             ('incremental', null, now() - interval '8 days', now() - interval '8 days', 0, 0, 0, 0),
             ('incremental', null, now() - interval '6 days', now() - interval '6 days', 0, 0, 0, 0)`);
    await recordRefreshRun(t.db, run('incremental'));
    expect(await runs()).toEqual([
      { mode: 'full', scoped: false, ageDays: 30 },
      { mode: 'incremental', scoped: false, ageDays: 6 },
      { mode: 'incremental', scoped: false, ageDays: 0 },
    ]);
    expect(await fullBuildRecorded(t.db)).toBe(true);
  });

  it('once a newer unscoped full rebuild is recorded, the old one goes with the next run', async () => {
    await recordRefreshRun(t.db, run('full'));
    // The pruning statement reads the table as it was before its own insert.
    expect((await runs()).map((r) => r.ageDays)).toEqual([30, 6, 0, 0]);
    await recordRefreshRun(t.db, run('incremental'));
    expect(await runs()).toEqual([
      { mode: 'incremental', scoped: false, ageDays: 6 },
      { mode: 'incremental', scoped: false, ageDays: 0 },
      { mode: 'full', scoped: false, ageDays: 0 },
      { mode: 'incremental', scoped: false, ageDays: 0 },
    ]);
  });
});

describe('advisory locks', () => {
  it('statcache_lock_experiments takes the declared lock space and slots', async () => {
    const [row] = await queryRows<{ def: string }>(
      t.db,
      sql`select pg_get_functiondef('statcache_lock_experiments(bigint[])'::regprocedure) as def`,
    );
    expect(row?.def).toContain(`(id % ${EXPERIMENT_LOCK_SLOTS})`);
    expect(row?.def).toContain(`pg_advisory_xact_lock(${LOCK_SPACE}, slot)`);
  });
});
