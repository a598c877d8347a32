/**
 * Full rebuild: every bucket and versions cache recomputed from source, in bounded batches of
 * experiments, each batch its own transaction (see rebuild-batch.ts).
 */
import { sql } from 'drizzle-orm';
import { type BucketShape, HOURLY_SHAPE } from '../buckets/shape.js';
import { onOneConnection } from '../db/on-one-connection.js';
import { type Executor, queryRows, type StatDb, toDate } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import { fullBuildRecorded, recordRefreshRun, recordUpToDate } from '../runs/refresh-runs.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { countExperiments, experimentBatches } from '../source/experiment-batches.js';
import type { SourceProfile } from '../source/source-profile.js';
import {
  dropVersionsByChat,
  precomputeVersionsByChat,
  VERSIONS_BY_CHAT,
} from '../versions/versions-by-chat.js';
import { deleteOrphanBuckets } from './delete-scope-buckets.js';
import { currentSnapshot, discardCoveredChanges } from './discard-covered-changes.js';
import { rebuildBatch } from './rebuild-batch.js';

export interface RefreshFullOptions {
  /** Only these experiments; all experiments (and orphan cleanup) when omitted. */
  experimentIds?: readonly number[];
  /** Platforms excluded from experiment buckets. */
  excludedPlatforms: readonly string[];
  /** Experiments per transaction. */
  batchExperiments: number;
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
  // Unscoped: on one connection, so the versions every batch reads can be computed once into a temp
  // table (versions-by-chat.ts) after the snapshot.
  await onOneConnection(db, async (conn) => {
    // Changes committed before this point are covered by the batches below (unscoped runs only).
    const snapshot = scoped ? null : await currentSnapshot(conn);
    const upToDateAt = scoped ? null : await databaseNow(conn);
    const versionsByChat =
      snapshot === null
        ? undefined
        : { relation: VERSIONS_BY_CHAT, snapshot, recountDiffering: await fullBuildRecorded(conn) };
    if (!scoped) await precomputeVersionsByChat(conn, source);
    try {
      const experimentsTotal = await countExperiments(conn, options.experimentIds, source);
      for await (const batch of experimentBatches(
        conn,
        options.batchExperiments,
        options.experimentIds,
        source,
      )) {
        const written = await rebuildBatch(
          conn,
          batch,
          options.excludedPlatforms,
          options.bucketShape ?? HOURLY_SHAPE,
          source,
          versionsByChat,
        );
        result.batches += 1;
        result.experiments += batch.length;
        result.experimentBuckets += written.experimentBuckets;
        result.sessionBuckets += written.sessionBuckets;
        result.versionsUpdated += written.versionsUpdated;
        options.onProgress?.({
          batches: result.batches,
          experimentsDone: result.experiments,
          experimentsTotal: Math.max(experimentsTotal, result.experiments),
          elapsedMs: Date.now() - startedAt.getTime(),
        });
      }
      if (snapshot !== null) {
        result.orphanBucketsDeleted = await withDeadlockRetry(() =>
          conn.transaction((tx) => deleteOrphanBuckets(tx, source)),
        );
        result.changesDiscarded = await discardCoveredChanges(conn, snapshot);
        if (upToDateAt) await recordUpToDate(conn, upToDateAt);
      }
    } finally {
      if (!scoped) await dropVersionsByChat(conn);
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
