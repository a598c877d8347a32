/**
 * The `compress` job, on `STATCACHE_COMPRESS_CRON` (UTC): the compression policy, measured from the
 * time the job runs.
 */
import { compress } from '../src/compress/compress.js';
import type { JobContext } from './context.js';
import type { JobDefinition, JobSummary } from './job-definition.js';

/** Nothing: the policy covers every experiment. */
export type CompressPayload = Record<string, never>;

async function handleCompress({ db, config }: JobContext): Promise<JobSummary> {
  const result = await compress(db, {
    policy: config.compression,
    batchExperiments: config.batchExperiments,
  });
  const { day, month } = result.written;
  return {
    bucketsWritten:
      day.experimentBuckets + day.sessionBuckets + month.experimentBuckets + month.sessionBuckets,
    changesProcessed: 0,
    merged: result.merged,
    experiments: result.experiments,
  };
}

export const compressJob: JobDefinition<'compress', CompressPayload> = {
  name: 'compress',
  schedule: (config) => ({ pattern: config.compressCron }),
  defaultPayload: {},
  enqueue: {
    argument: 'compress',
    experiments: {
      accepted: false,
      refusal: '--experiment does not apply to compress (the policy covers every experiment)',
    },
  },
  handle: handleCompress,
};
