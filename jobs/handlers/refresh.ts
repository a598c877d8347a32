/** The `refresh` job: the incremental refresh (or, for a manual run naming experiments, their full rebuild). */

import { shapeAt } from '../../src/buckets/shape.js';
import { refreshFull } from '../../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../../src/refresh/refresh-incremental.js';
import type { JobContext } from '../context.js';
import type { JobData, JobSummary } from '../names.js';

export async function handleRefresh({ db, config }: JobContext, data: JobData): Promise<JobSummary> {
  const bucketShape = shapeAt(config.compression, new Date());
  if (data.experimentIds?.length) {
    const full = await refreshFull(db, {
      experimentIds: data.experimentIds,
      excludedPlatforms: config.excludedPlatforms,
      batchExperiments: config.batchExperiments,
      bucketShape,
    });
    return {
      bucketsWritten: full.experimentBuckets + full.sessionBuckets,
      changesProcessed: 0,
      mode: 'full',
      experiments: full.experiments,
    };
  }
  const result = await refreshIncremental(db, {
    excludedPlatforms: config.excludedPlatforms,
    batchChanges: config.batchChanges,
    batchExperiments: config.batchExperiments,
    bucketShape,
  });
  return {
    bucketsWritten: result.experimentBuckets + result.sessionBuckets,
    changesProcessed: result.changes,
    mode: result.fullRebuild ? 'full' : 'incremental',
    batches: result.batches,
  };
}
