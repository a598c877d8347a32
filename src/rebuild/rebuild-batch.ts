/** One batch of a full rebuild: replace a set of experiments' buckets and versions in one transaction. */

import type { SQL } from 'drizzle-orm';
import { lockExperiments } from '../buckets/lock-experiments.js';
import type { BucketShape } from '../buckets/shape.js';
import type { Executor, StatDb } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import type { SourceProfile } from '../source/source-profile.js';
import { updateVersionsCache } from '../versions/update-versions-cache.js';
import type { PrecomputedVersions } from '../versions/versions-by-chat.js';
import { deleteScopeBuckets } from './delete-scope-buckets.js';
import { insertExperimentBuckets } from './insert-experiment-buckets.js';
import { insertParticipantFirsts } from './insert-participant-firsts.js';
import { insertSessionBuckets } from './insert-session-buckets.js';

export interface BatchResult {
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/** What a caller of rebuildExperiments may add. */
export interface RebuildExtras {
  /** A precomputed (chat_id, versions) relation, read instead of the messages where still valid. */
  versionsByChat?: PrecomputedVersions;
  /** Sessions (a SELECT of ids) the caller rebuilds whole in the same transaction. */
  handledSessions?: SQL;
}

/**
 * Deletes and recomputes every bucket of `experimentIds` and their sessions (in `shape`: hourly, or
 * daily/monthly for ranges the compression policy has passed), their participants'
 * first sessions and their sessions' versions cache, inside the caller's transaction, after taking
 * the experiments' refresh locks. READ COMMITTED on purpose: each statement reads after the locks
 * are held, and anything a writer commits between two statements left a change row that the
 * incremental refresh will apply. `source` names the platform's tables every statement reads;
 * `versionsByChat`, when given, is a precomputed (chat_id, versions) relation the versions step
 * reads instead of the messages for sessions not written since its snapshot (a whole rebuild's, see
 * versions-by-chat.ts).
 */
export async function rebuildExperiments(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  shape: BucketShape,
  source: SourceProfile,
  { versionsByChat, handledSessions }: RebuildExtras = {},
): Promise<BatchResult> {
  await lockExperiments(tx, experimentIds);
  const buckets = await rebuildBuckets(tx, experimentIds, excludedPlatforms, shape, source, handledSessions);
  const versionsUpdated = await updateVersionsCache(tx, { experimentIds, versionsByChat }, source);
  return { ...buckets, versionsUpdated };
}

/** The bucket half of rebuildExperiments (the caller holds the experiments' locks). */
async function rebuildBuckets(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  shape: BucketShape,
  source: SourceProfile,
  handledSessions?: SQL,
): Promise<{ experimentBuckets: number; sessionBuckets: number }> {
  await deleteScopeBuckets(tx, experimentIds, source, handledSessions);
  await insertParticipantFirsts(tx, experimentIds, excludedPlatforms, source);
  const experimentBuckets = await insertExperimentBuckets(
    tx,
    experimentIds,
    excludedPlatforms,
    shape,
    source,
  );
  const sessionBuckets = await insertSessionBuckets(tx, experimentIds, shape, source);
  return { experimentBuckets, sessionBuckets };
}

/** Which part of a batch a transaction rebuilds: its buckets, its sessions' versions, or both. */
export type BatchPart = 'buckets' | 'versions' | 'both';

/**
 * rebuildExperiments as its own transaction, retried on deadlock; `part` 'buckets' or 'versions'
 * does only that half (each under the experiments' locks), so a whole rebuild can run one while
 * the versions the other needs are still being computed.
 */
export function rebuildBatch(
  db: StatDb,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  shape: BucketShape,
  source: SourceProfile,
  versionsByChat?: PrecomputedVersions,
  part: BatchPart = 'both',
): Promise<BatchResult> {
  return withDeadlockRetry(() =>
    db.transaction(async (tx) => {
      if (part === 'both')
        return rebuildExperiments(tx, experimentIds, excludedPlatforms, shape, source, { versionsByChat });
      await lockExperiments(tx, experimentIds);
      if (part === 'versions')
        return {
          experimentBuckets: 0,
          sessionBuckets: 0,
          versionsUpdated: await updateVersionsCache(tx, { experimentIds, versionsByChat }, source),
        };
      return {
        ...(await rebuildBuckets(tx, experimentIds, excludedPlatforms, shape, source)),
        versionsUpdated: 0,
      };
    }),
  );
}
