/** Applies one claimed batch of changes inside the caller's transaction. */

import type { BucketShape } from '../buckets/shape.js';
import type { Executor } from '../db/types.js';
import { rebuildExperiments } from '../rebuild/rebuild-batch.js';
import type { SourceProfile } from '../source/source-profile.js';
import { updateVersionsCache } from '../versions/update-versions-cache.js';
import {
  CLAIMED_ADDED_TAGS,
  CLAIMED_VERSION_SESSIONS,
  CLAIMED_WHOLE_SESSIONS,
  type ClaimSummary,
  lockClaimedExperiments,
} from './claim-changes.js';
import { deferExperimentBuckets, recomputeExperimentBuckets } from './recompute-experiment-buckets.js';
import { recomputeParticipantFirsts } from './recompute-participant-firsts.js';
import { rebuildWholeSessions, recomputeSessionBuckets } from './recompute-session-buckets.js';

export interface AppliedWork {
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/**
 * Order matters: locks first; whole experiments; participants' first sessions (which add
 * experiment keys); session buckets (which add experiment keys, and which the experiment recount
 * uses to find who talked when); experiment buckets (or, in a run's first pass, keys queued to
 * recount them once in its second pass); versions.
 */
export async function applyWork(
  tx: Executor,
  claim: ClaimSummary,
  excludedPlatforms: readonly string[],
  deferExperiments: boolean,
  shape: BucketShape,
  source: SourceProfile,
): Promise<AppliedWork> {
  await lockClaimedExperiments(tx);
  const result: AppliedWork = { experimentBuckets: 0, sessionBuckets: 0, versionsUpdated: 0 };
  if (claim.wholeExperiments.length > 0) {
    const rebuilt = await rebuildExperiments(tx, claim.wholeExperiments, excludedPlatforms, shape, source, {
      handledSessions: CLAIMED_WHOLE_SESSIONS,
    });
    result.experimentBuckets += rebuilt.experimentBuckets;
    result.sessionBuckets += rebuilt.sessionBuckets;
    result.versionsUpdated += rebuilt.versionsUpdated;
  }
  // A step whose kind of key the batch did not claim has nothing to read (each reads only its own
  // kind; the keys earlier steps add are experiment keys): skipped, not run empty.
  const { keys } = claim;
  if (keys.participant > 0)
    await recomputeParticipantFirsts(tx, claim.wholeExperiments, excludedPlatforms, source);
  if (keys.session > 0) result.sessionBuckets += await rebuildWholeSessions(tx, shape, source);
  if (keys.messageHour > 0) result.sessionBuckets += await recomputeSessionBuckets(tx, source);
  if (deferExperiments) await deferExperimentBuckets(tx, claim.wholeExperiments);
  else
    result.experimentBuckets += await recomputeExperimentBuckets(
      tx,
      claim.wholeExperiments,
      excludedPlatforms,
      source,
    );
  if (keys.chatVersions > 0)
    result.versionsUpdated += await updateVersionsCache(
      tx,
      { sessionIdsFrom: CLAIMED_VERSION_SESSIONS, addedTags: CLAIMED_ADDED_TAGS },
      source,
    );
  return result;
}
