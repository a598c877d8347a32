/**
 * Incremental refresh: claims pending changes in batches (FOR UPDATE SKIP LOCKED, so several
 * refreshes share the queue), recomputes only the buckets they name, and deletes the claimed rows
 * in the same transaction. Changes arriving during the run wait for the next run (but for `session`
 * keys, which its second pass may take), so a run ends.
 * On a cache never fully built it runs the full rebuild first.
 */
import { sql } from 'drizzle-orm';
import { type BucketShape, HOURLY_SHAPE } from '../buckets/shape.js';
import { queryRows, type StatDb, toDate, toNumber } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import { refreshFull } from '../rebuild/refresh-full.js';
import { FULL_BUILD_RECORDED, recordRefreshRun, recordUpToDate } from '../runs/refresh-runs.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import type { SourceProfile } from '../source/source-profile.js';
import { type AppliedWork, applyWork } from './apply-work.js';
import { type ClaimRange, claimChanges } from './claim-changes.js';

export interface RefreshIncrementalOptions {
  excludedPlatforms: readonly string[];
  /** Change rows per transaction. */
  batchChanges: number;
  /** Experiments per transaction if a TRUNCATE forces a full rebuild. */
  batchExperiments: number;
  /** Connections such a full rebuild runs on at once. @defaultValue refreshFull's */
  rebuildConcurrency?: number;
  /**
   * The shape whole rebuilds (a session, an experiment, a full rebuild) are written in; recounts of
   * single instants always land in the bucket already covering them. @defaultValue hourly everywhere
   */
  bucketShape?: BucketShape;
  onProgress?: (progress: { batches: number; changes: number; elapsedMs: number }) => void;
  /** Where the platform keeps its tables. @defaultValue the statcache demo schema */
  source?: SourceProfile;
}

export interface IncrementalResult {
  mode: 'incremental';
  changes: number;
  batches: number;
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
  /** True when this run had to rebuild everything: the cache was never built, or a TRUNCATE is queued. */
  fullRebuild: boolean;
  durationMs: number;
}

type BatchOutcome =
  | { kind: 'empty' }
  | { kind: 'needs-full' }
  | ({ kind: 'applied'; changes: number } & AppliedWork);

/** Applies every change pending when the run starts; resolves with what it did. */
export async function refreshIncremental(
  db: StatDb,
  options: RefreshIncrementalOptions,
): Promise<IncrementalResult> {
  const startedAt = new Date();
  const shape: BucketShape = options.bucketShape ?? HOURLY_SHAPE;
  const source = options.source ?? STATCACHE_PROFILE;
  const result: IncrementalResult = {
    mode: 'incremental',
    changes: 0,
    batches: 0,
    experimentBuckets: 0,
    sessionBuckets: 0,
    versionsUpdated: 0,
    fullRebuild: false,
    durationMs: 0,
  };
  const [top] = await queryRows<{ max_id: unknown; built: boolean; at: unknown }>(
    db,
    sql`select coalesce((select max(id) from statcache_changes), 0) as max_id,
               ${FULL_BUILD_RECORDED} as built, now() as at`,
  );
  // The database's clock, comparable with the change rows' captured_at.
  const upToDateAt = toDate(top?.at) ?? startedAt;
  const maxId = toNumber(top?.max_id);
  // A cache that was never built holds nothing for the history before the triggers existed.
  let needsFull = !top?.built;

  /** Whether a batch queued experiment recounts for the second pass. */
  let deferred = false;
  /** Whether a batch rebuilt experiments whole, which queues session keys for sessions it unfiled. */
  let unfiled = false;
  /** Runs batches over `range` until none is left (a full rebuild first if one is needed). */
  const pass = async (range: ClaimRange, deferExperiments: boolean, countChanges: boolean): Promise<void> => {
    for (;;) {
      const outcome: BatchOutcome = needsFull
        ? { kind: 'needs-full' }
        : await withDeadlockRetry(() =>
            db.transaction(async (tx): Promise<BatchOutcome> => {
              // The commit need not wait for its WAL flush: a batch lost in a crash loses its claim's
              // delete with it, so its changes are queued again and the next run applies them.
              await tx.execute(sql`set local synchronous_commit = off`);
              const work = await claimChanges(tx, range, options.batchChanges, source);
              if (work.changes === 0) return { kind: 'empty' };
              // Throwing rolls the claim back: the full rebuild discards the changes it covers itself.
              if (work.all) throw new NeedsFullRebuild();
              // A batch that took fewer rows than it could is the pass's last: nothing after it can
              // touch its experiment buckets again, so it recounts them now instead of queueing them,
              // unless earlier batches queued theirs: then it queues too, and the second pass
              // recounts every bucket of the run once (a busy hour is in every batch).
              const defer = deferExperiments && (work.changes >= options.batchChanges || deferred);
              if (defer) deferred = true;
              if (work.wholeExperiments.length > 0) unfiled = true;
              return {
                kind: 'applied',
                changes: work.changes,
                ...(await applyWork(tx, work, options.excludedPlatforms, defer, shape, source)),
              };
            }),
          ).catch((error: unknown) => {
            if (error instanceof NeedsFullRebuild) return { kind: 'needs-full' } as const;
            throw error;
          });
      if (outcome.kind === 'empty') return;
      if (outcome.kind === 'needs-full') {
        needsFull = false;
        const full = await refreshFull(db, {
          excludedPlatforms: options.excludedPlatforms,
          batchExperiments: options.batchExperiments,
          concurrency: options.rebuildConcurrency,
          bucketShape: shape,
          source,
        });
        result.fullRebuild = true;
        result.experimentBuckets += full.experimentBuckets;
        result.sessionBuckets += full.sessionBuckets;
        result.versionsUpdated += full.versionsUpdated;
        result.changes += full.changesDiscarded;
        continue;
      }
      result.batches += 1;
      if (countChanges) result.changes += outcome.changes;
      result.experimentBuckets += outcome.experimentBuckets;
      result.sessionBuckets += outcome.sessionBuckets;
      result.versionsUpdated += outcome.versionsUpdated;
      options.onProgress?.({
        batches: result.batches,
        changes: result.changes,
        elapsedMs: Date.now() - startedAt.getTime(),
      });
      // A partial batch took every row of the range not held by another refresh: the pass is over
      // (rows another refresh holds are its to apply, or come back to the next run if it fails).
      if (outcome.changes < options.batchChanges) return;
    }
  };

  // Pass 1: every change pending at the start; experiment recounts of full batches are queued, not
  // done, so a bucket touched by many batches is recounted once (the last batch recounts its own).
  // Pass 2, if anything was queued: those recounts and the session keys whole-experiment rebuilds
  // queued (only those kinds: other changes written meanwhile wait for the next run; the pass ends
  // at the newest row when it starts, and queues nothing itself, so a run always ends).
  await pass({ afterId: 0, maxId, queuedKindsOnly: false }, true, true);
  if (deferred || unfiled) {
    const [after] = await queryRows<{ max_id: unknown }>(
      db,
      sql`select coalesce(max(id), 0) as max_id from statcache_changes`,
    );
    await pass({ afterId: maxId, maxId: toNumber(after?.max_id), queuedKindsOnly: true }, false, false);
  }
  result.durationMs = Date.now() - startedAt.getTime();
  // One transaction, not waiting for its WAL flush either: lost in a crash, status shows an older
  // run and reads take the cache for older than it is, never for newer.
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local synchronous_commit = off`);
    if (result.changes > 0)
      await recordRefreshRun(tx, { ...result, experiments: 0, experimentIds: null, startedAt });
    await recordUpToDate(tx, upToDateAt);
  });
  return result;
}

/** A TRUNCATE is in the queue: what remains can only be known by a full rebuild. */
class NeedsFullRebuild extends Error {
  override name = 'NeedsFullRebuild';
}
