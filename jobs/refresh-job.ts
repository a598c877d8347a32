/**
 * The `refresh` job, every `STATCACHE_REFRESH_EVERY_MS`: the incremental refresh, or, for a manual run
 * naming experiments, their full rebuild. Both write the compression policy's shape.
 */

import { shapeAt } from '../src/buckets/shape.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import type { JobContext } from './context.js';
import type { JobDefinition, JobSummary } from './job-definition.js';

export interface RefreshPayload {
  /** Rebuild these experiments fully instead of applying the captured changes. */
  experimentIds?: number[];
}

async function handleRefresh({ db, config }: JobContext, data: RefreshPayload): Promise<JobSummary> {
  const bucketShape = shapeAt(config.compression, new Date());
  if (data.experimentIds?.length) {
    const full = await refreshFull(db, {
      experimentIds: data.experimentIds,
      excludedPlatforms: config.excludedPlatforms,
      batchExperiments: config.batchExperiments,
      concurrency: config.rebuildConcurrency,
      bucketShape,
      source: config.source,
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
    source: config.source,
    batchChanges: config.batchChanges,
    batchExperiments: config.batchExperiments,
    rebuildConcurrency: config.rebuildConcurrency,
    bucketShape,
  });
  return {
    bucketsWritten: result.experimentBuckets + result.sessionBuckets,
    changesProcessed: result.changes,
    mode: result.fullRebuild ? 'full' : 'incremental',
    batches: result.batches,
  };
}

export const refreshJob: JobDefinition<'refresh', RefreshPayload> = {
  name: 'refresh',
  schedule: (config) => ({ every: config.refreshEveryMs }),
  defaultPayload: {},
  enqueue: {
    argument: 'refresh',
    experiments: {
      accepted: true,
      help: 'rebuild these experiments fully',
      payload: (experimentIds) => ({ experimentIds }),
    },
  },
  handle: handleRefresh,
};
