/** Runs one job by name; failures a retry cannot fix become UnrecoverableError. */
import { type Job, UnrecoverableError } from 'bullmq';
import { outcomeOf } from '../src/errors/error-kind.js';
import type { JobContext } from './context.js';
import type { JobSummary } from './job-definition.js';
import { type AnyJobPayload, isJobName, JOB_NAMES, type JobName, jobDefinition } from './registry.js';

export async function processJob(
  ctx: JobContext,
  job: Job<AnyJobPayload, unknown, JobName>,
): Promise<JobSummary> {
  if (!isJobName(job.name))
    throw new UnrecoverableError(`unknown job '${job.name}'; statcache runs ${JOB_NAMES.join(', ')}`);
  const definition = jobDefinition(job.name);
  try {
    return await definition.handle(ctx, job.data ?? definition.defaultPayload);
  } catch (error) {
    // Bad configuration, bad input or a missing migration fail the same way on every attempt.
    if (!outcomeOf(error).retryJob) throw new UnrecoverableError((error as Error).message);
    throw error;
  }
}
