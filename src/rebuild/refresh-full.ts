/**
 * Full rebuild: every bucket and versions cache recomputed from source, in bounded batches of
 * experiments, each batch its own transaction (see rebuild-batch.ts).
 */
import { type BucketShape, HOURLY_SHAPE } from '../buckets/shape.js';
import type { StatDb } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import { recordRefreshRun } from '../runs/refresh-runs.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { countExperiments, experimentBatches } from '../source/experiment-batches.js';
import type { SourceProfile } from '../source/source-profile.js';
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
  // Changes committed before this point are covered by the batches below (unscoped runs only).
  const snapshot = scoped ? null : await currentSnapshot(db);
  const experimentsTotal = await countExperiments(db, options.experimentIds, source);
  for await (const batch of experimentBatches(db, options.batchExperiments, options.experimentIds, source)) {
    const written = await rebuildBatch(
      db,
      batch,
      options.excludedPlatforms,
      options.bucketShape ?? HOURLY_SHAPE,
      source,
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
      db.transaction((tx) => deleteOrphanBuckets(tx, source)),
    );
    result.changesDiscarded = await discardCoveredChanges(db, snapshot);
  }
  result.durationMs = Date.now() - startedAt.getTime();
  await recordRefreshRun(db, {
    ...result,
    experimentIds: scoped ? [...new Set(options.experimentIds)] : null,
    startedAt,
  });
  return result;
}
