/** The `compress` job: the compression policy, measured from the time the job runs. */
import { compress } from '../../src/compress/compress.js';
import type { JobContext } from '../context.js';
import type { JobSummary } from '../names.js';

export async function handleCompress({ db, config }: JobContext): Promise<JobSummary> {
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
