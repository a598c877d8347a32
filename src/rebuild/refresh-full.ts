/**
 * Full rebuild: every bucket and versions cache recomputed from source, in bounded batches of
 * experiments, each batch its own transaction (see rebuild-batch.ts), on `concurrency` connections
 * at once (PostgreSQL runs an INSERT … SELECT on one core: lanes are how a rebuild uses several).
 */
import { sql } from 'drizzle-orm';
import { type BucketShape, HOURLY_SHAPE } from '../buckets/shape.js';
import { DEFAULT_REBUILD_CONCURRENCY } from '../config.js';
import { lockRebuild, unlockRebuild } from '../db/advisory-locks.js';
import { onConnections } from '../db/on-connections.js';
import { type Executor, queryRows, type StatDb, toDate } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import { fullBuildRecorded, recordRefreshRun, recordUpToDate } from '../runs/refresh-runs.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { experimentBatches } from '../source/experiment-batches.js';
import type { SourceProfile } from '../source/source-profile.js';
import {
  clearVersionsByChat,
  precomputeVersionsByChat,
  VERSIONS_BY_CHAT,
} from '../versions/versions-by-chat.js';
import { deleteOrphanBuckets } from './delete-scope-buckets.js';
import { currentSnapshot, discardCoveredChanges } from './discard-covered-changes.js';
import { rebuildBatch } from './rebuild-batch.js';
import { runLanes } from './rebuild-lanes.js';

export interface RefreshFullOptions {
  /** Only these experiments; all experiments (and orphan cleanup) when omitted. */
  experimentIds?: readonly number[];
  /** Platforms excluded from experiment buckets. */
  excludedPlatforms: readonly string[];
  /** Experiments per transaction. */
  batchExperiments: number;
  /**
   * Batches run at once, each on a connection of its own (capped by the pool's size; one on a
   * single-connection database). @defaultValue {@link DEFAULT_REBUILD_CONCURRENCY}
   */
  concurrency?: number;
  /**
   * Which ranges are written as daily or monthly buckets: `shapeAt(policy, now)` ends in the shape
   * compression would produce, without writing old ranges hourly first. @defaultValue hourly everywhere
   */
  bucketShape?: BucketShape;
  /** Called after each batch, for progress output. */
  onProgress?: (progress: RefreshProgress) => void;
  /** Where the platform keeps its tables. @defaultValue the statcache demo schema */
  source?: SourceProfile;
}

export interface RefreshProgress {
  batches: number;
  experimentsDone: number;
  experimentsTotal: number;
  elapsedMs: number;
}

export interface RefreshResult {
  mode: 'full';
  experiments: number;
  batches: number;
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
  orphanBucketsDeleted: number;
  /** Pending change rows made redundant by this rebuild (unscoped runs). */
  changesDiscarded: number;
  durationMs: number;
}

/**
 * Rebuilds the buckets and versions cache of the given (or all) experiments of `options.source`
 * (its experiment rows, not published versions, when unscoped).
 */
export async function refreshFull(db: StatDb, options: RefreshFullOptions): Promise<RefreshResult> {
  const startedAt = new Date();
  const source = options.source ?? STATCACHE_PROFILE;
  const scoped = options.experimentIds !== undefined;
  const result: RefreshResult = {
    mode: 'full',
    experiments: 0,
    batches: 0,
    experimentBuckets: 0,
    sessionBuckets: 0,
    versionsUpdated: 0,
    orphanBucketsDeleted: 0,
    changesDiscarded: 0,
    durationMs: 0,
  };
  // Lane 0 is the run's own connection: the rebuild lock, the snapshot and the bookkeeping.
  await onConnections(db, options.concurrency ?? DEFAULT_REBUILD_CONCURRENCY, async (lanes) => {
    const conn = lanes[0] as StatDb;
    if (!scoped) await conn.execute(lockRebuild());
    try {
      // Changes committed before this point are covered by the batches below (unscoped runs only).
      const snapshot = scoped ? null : await currentSnapshot(conn);
      const upToDateAt = scoped ? null : await databaseNow(conn);
      const versionsByChat =
        snapshot === null
          ? undefined
          : { relation: VERSIONS_BY_CHAT, snapshot, recountDiffering: await fullBuildRecorded(conn) };
      const batches: number[][] = [];
      for await (const batch of experimentBatches(
        conn,
        options.batchExperiments,
        options.experimentIds,
        source,
      ))
        batches.push(batch);
      const experimentsTotal = batches.reduce((n, b) => n + b.length, 0);
      const part = (lane: StatDb, batch: number[], which: 'buckets' | 'versions') =>
        rebuildBatch(
          lane,
          batch,
          options.excludedPlatforms,
          options.bucketShape ?? HOURLY_SHAPE,
          source,
          versionsByChat,
          which,
        );
      await runLanes(lanes, {
        batches,
        prepare: scoped ? undefined : (lane) => precomputeVersionsByChat(lane, source),
        buckets: async (lane, batch) => {
          const written = await part(lane, batch, 'buckets');
          result.experimentBuckets += written.experimentBuckets;
          result.sessionBuckets += written.sessionBuckets;
        },
        versions: async (lane, batch) => {
          // Awaited before the +=, which would otherwise read the total before another lane adds to it.
          const written = await part(lane, batch, 'versions');
          result.versionsUpdated += written.versionsUpdated;
        },
        onBatchDone: (batch) => {
          result.batches += 1;
          result.experiments += batch.length;
          options.onProgress?.({
            batches: result.batches,
            experimentsDone: result.experiments,
            experimentsTotal,
            elapsedMs: Date.now() - startedAt.getTime(),
          });
        },
      });
      if (snapshot !== null) {
        result.orphanBucketsDeleted = await withDeadlockRetry(() =>
          conn.transaction((tx) => deleteOrphanBuckets(tx, source)),
        );
        result.changesDiscarded = await discardCoveredChanges(conn, snapshot);
        if (upToDateAt) await recordUpToDate(conn, upToDateAt);
      }
    } finally {
      if (!scoped) {
        await clearVersionsByChat(conn);
        await conn.execute(unlockRebuild());
      }
    }
  });
  result.durationMs = Date.now() - startedAt.getTime();
  await recordRefreshRun(db, {
    ...result,
    experimentIds: scoped ? [...new Set(options.experimentIds)] : null,
    startedAt,
  });
  return result;
}

/** The database's clock (comparable with the change rows' captured_at). */
async function databaseNow(db: Executor): Promise<Date> {
  const [row] = await queryRows<{ at: unknown }>(db, sql`select now() as at`);
  return toDate(row?.at) ?? new Date();
}
