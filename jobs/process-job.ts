/** Runs one job by name; failures a retry cannot fix become UnrecoverableError. */
import { type Job, UnrecoverableError } from 'bullmq';
import { outcomeOf } from '../src/errors/error-kind.js';
import type { JobContext } from './context.js';
import { handleCompress } from './handlers/compress.js';
import { handleRefresh } from './handlers/refresh.js';
import { handleVerifySample } from './handlers/verify-sample.js';
import type { JobData, JobName, JobSummary } from './names.js';

const HANDLERS: Record<JobName, (ctx: JobContext, data: JobData) => Promise<JobSummary>> = {
  refresh: handleRefresh,
  compress: handleCompress,
  'verify-sample': handleVerifySample,
};

export async function processJob(ctx: JobContext, job: Job<JobData, unknown, JobName>): Promise<JobSummary> {
  const handler = HANDLERS[job.name];
  if (!handler)
    throw new UnrecoverableError(
      `unknown job '${job.name}'; statcache runs ${Object.keys(HANDLERS).join(', ')}`,
    );
  try {
    return await handler(ctx, job.data ?? {});
  } catch (error) {
    // Bad configuration, bad input or a missing migration fail the same way on every attempt.
    if (!outcomeOf(error).retryJob) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
