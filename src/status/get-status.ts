/** What `statcache status` shows: bucket counts per size, their time range, and the last refresh. */
import { sql } from 'drizzle-orm';
import { BUCKET_SIZES, type BucketSize } from '../buckets/bucket-sizes.js';
import { queryRows, type StatDb, toDate, toNumber } from '../db/types.js';

export interface BucketSizeStatus {
  size: BucketSize;
  experimentBuckets: number;
  sessionBuckets: number;
  /** Start of the oldest bucket of this size (experiment or session), or null. */
  oldestStart: Date | null;
  /** End of the newest bucket of this size, or null. */
  newestEnd: Date | null;
}

export interface LastRefresh {
  mode: string;
  startedAt: Date;
  finishedAt: Date;
  experiments: number;
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

export interface PendingChanges {
  /** Change rows waiting for an incremental refresh. */
  count: number;
  /** When the oldest of them was captured, or null. */
  oldestCapturedAt: Date | null;
  /** Age of the oldest in seconds (the lag), 0 when none. */
  lagSeconds: number;
}

export interface CacheStatus {
  buckets: BucketSizeStatus[];
  lastRefresh: LastRefresh | null;
  pending: PendingChanges;
}

/** Reads the cache's shape in one statement. */
export async function getStatus(db: StatDb): Promise<CacheStatus> {
  const rows = await queryRows<{
    bucket_size: BucketSize | null;
    experiment_buckets: unknown;
    session_buckets: unknown;
    oldest_start: unknown;
    newest_end: unknown;
    run: Record<string, unknown> | null;
    pending: Record<string, unknown> | null;
  }>(
    db,
    sql`
    with per_size as (
      select bucket_size, count(*) as experiment_buckets, 0::bigint as session_buckets,
             min(bucket_start) as oldest_start, max(bucket_end) as newest_end
      from experiment_statistics_buckets group by bucket_size
      union all
      select bucket_size, 0, count(*), min(bucket_start), max(bucket_end)
      from session_statistics_buckets group by bucket_size
    )
    select p.bucket_size, sum(p.experiment_buckets) as experiment_buckets, sum(p.session_buckets) as session_buckets,
           min(p.oldest_start) as oldest_start, max(p.newest_end) as newest_end, null::json as run, null::json as pending
    from per_size p group by p.bucket_size
    union all
    select null, null, null, null, null,
           (select row_to_json(r) from (
              select mode, started_at, finished_at, experiments, experiment_buckets, session_buckets, versions_updated
              from statcache_refresh_runs order by finished_at desc, id desc limit 1) r),
           (select json_build_object('count', count(*), 'oldest', min(captured_at),
                                     'lag', coalesce(extract(epoch from now() - min(captured_at)), 0))
            from statcache_changes)`,
  );
  const bySize = new Map(rows.filter((r) => r.bucket_size !== null).map((r) => [r.bucket_size, r]));
  const meta = rows.find((r) => r.bucket_size === null);
  const run = meta?.run ?? null;
  const pending = meta?.pending ?? {};
  return {
    buckets: BUCKET_SIZES.map((size) => {
      const r = bySize.get(size);
      return {
        size,
        experimentBuckets: toNumber(r?.experiment_buckets),
        sessionBuckets: toNumber(r?.session_buckets),
        oldestStart: toDate(r?.oldest_start),
        newestEnd: toDate(r?.newest_end),
      };
    }),
    lastRefresh: run
      ? {
          mode: String(run.mode),
          startedAt: toDate(run.started_at) as Date,
          finishedAt: toDate(run.finished_at) as Date,
          experiments: toNumber(run.experiments),
          experimentBuckets: toNumber(run.experiment_buckets),
          sessionBuckets: toNumber(run.session_buckets),
          versionsUpdated: toNumber(run.versions_updated),
        }
      : null,
    pending: {
      count: toNumber(pending.count),
      oldestCapturedAt: toDate(pending.oldest),
      lagSeconds: Math.max(0, Math.round(toNumber(pending.lag) * 1000) / 1000),
    },
  };
}
