/**
 * Every statcache job, listed once. The worker, the schedulers, `status` and `statcache enqueue` take
 * names, schedules, payload types and handlers from here; a new job is a file exporting its
 * definition plus one line in JobPayloads and one in DEFINITIONS.
 */
import { type CompressPayload, compressJob } from './compress-job.js';
import type { JobDefinition } from './job-definition.js';
import { type RefreshPayload, refreshJob } from './refresh-job.js';
import { type VerifySamplePayload, verifySampleJob } from './verify-sample-job.js';

/** Each job's payload by name (graphile-worker's `Tasks`): what `Job.data` holds for that name. */
export interface JobPayloads {
  refresh: RefreshPayload;
  compress: CompressPayload;
  'verify-sample': VerifySamplePayload;
}

export type JobName = keyof JobPayloads;
/** The payload of some job (what the queue carries, whichever the name). */
export type AnyJobPayload = JobPayloads[JobName];
/** The definition of the job called `N`, typed with that job's payload. */
export type JobDefinitionOf<N extends JobName> = JobDefinition<N, JobPayloads[N]>;

/** The definitions by name; the type checks each key against its definition's name and payload. */
const DEFINITIONS: { readonly [N in JobName]: JobDefinitionOf<N> } = {
  refresh: refreshJob,
  compress: compressJob,
  'verify-sample': verifySampleJob,
};

/** Every job name, in the order status and the logs list them. */
export const JOB_NAMES = Object.keys(DEFINITIONS) as readonly JobName[];

/** Whether the queue's `name` is one of statcache's jobs (a job added by something else is not). */
export function isJobName(name: string): name is JobName {
  return Object.hasOwn(DEFINITIONS, name);
}

/** The definition of `name`. */
export function jobDefinition<N extends JobName>(name: N): JobDefinitionOf<N> {
  return DEFINITIONS[name];
}

/** Every definition, in JOB_NAMES order. */
export function jobDefinitions(): JobDefinitionOf<JobName>[] {
  return JOB_NAMES.map((name) => jobDefinition(name));
}

/** The words `statcache enqueue` takes, in JOB_NAMES order (`verify` for `verify-sample`). */
export const ENQUEUE_ARGUMENTS: readonly string[] = jobDefinitions().map((d) => d.enqueue.argument);

/** The job `statcache enqueue <argument>` runs, or undefined for a word it does not take. */
export function jobForEnqueueArgument(argument: string): JobDefinitionOf<JobName> | undefined {
  return jobDefinitions().find((d) => d.enqueue.argument === argument);
}
