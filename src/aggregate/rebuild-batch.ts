/** One batch of a full rebuild: replace a set of experiments' buckets and versions in one transaction. */
import type { StatDb } from '../db/types.js';
import { withSerializableRetry } from '../db/with-retry.js';
import { deleteScopeBuckets } from './delete-scope-buckets.js';
import { insertExperimentHourBuckets } from './insert-experiment-hour-buckets.js';
import { insertSessionHourBuckets } from './insert-session-hour-buckets.js';
import { updateVersionsCache } from './update-versions-cache.js';

export interface BatchResult {
  experimentBuckets: number;
  sessionBuckets: number;
  versionsUpdated: number;
}

/**
 * Deletes and recomputes every bucket of `experimentIds` and their sessions, and their sessions'
 * versions cache, as one REPEATABLE READ transaction: all four statements see one snapshot, so
 * experiment and session buckets agree, and readers see the old or the new scope, never a mix.
 */
export function rebuildBatch(
  db: StatDb,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<BatchResult> {
  return withSerializableRetry(() =>
    db.transaction(
      async (tx) => {
        await deleteScopeBuckets(tx, experimentIds);
        const experimentBuckets = await insertExperimentHourBuckets(tx, experimentIds, excludedPlatforms);
        const sessionBuckets = await insertSessionHourBuckets(tx, experimentIds);
        const versionsUpdated = await updateVersionsCache(tx, experimentIds);
        return { experimentBuckets, sessionBuckets, versionsUpdated };
      },
      { isolationLevel: 'repeatable read' },
    ),
  );
}
