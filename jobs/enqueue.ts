/** Manual runs: a job added now, deduplicated against an identical one already waiting. */
import { InvalidInputError } from '../src/errors/error-classes.js';
import type { StatcacheQueue } from './queue.js';
import type { JobDefinitionOf, JobName, JobPayloads } from './registry.js';

/** A manual run, planned before anything is written (so bad input adds nothing). */
export interface ManualRun<N extends JobName = JobName> {
  job: N;
  payload: JobPayloads[N];
  /** The experiments it is limited to, sorted and without duplicates; null for all of them. */
  experimentIds: number[] | null;
}

export interface EnqueueResult {
  job: JobName;
  id: string | null;
  /** True when an identical manual job was already waiting, so none was added. */
  deduplicated: boolean;
  experimentIds: number[] | null;
}

/**
 * The run of `definition` for `experimentIds` (all experiments when absent or empty); an
 * InvalidInputError with the job's refusal when it takes no `--experiment`.
 */
export function planManualRun<N extends JobName>(
  definition: JobDefinitionOf<N>,
  experimentIds?: readonly number[],
): ManualRun<N> {
  const option = definition.enqueue.experiments;
  if (experimentIds && !option.accepted) throw new InvalidInputError(option.refusal);
  const ids = experimentIds?.length ? [...new Set(experimentIds)].sort((a, b) => a - b) : null;
  const payload = ids && option.accepted ? option.payload(ids) : definition.defaultPayload;
  return { job: definition.name, payload, experimentIds: ids };
}

/**
 * Adds `run` with a deduplication id made of the job and its experiments: while such a job waits,
 * adding it again adds nothing; while one runs, one more waits (keepLastIfActive), so a change made
 * during a run is never left unprocessed.
 */
export async function enqueueJob(queue: StatcacheQueue, run: ManualRun): Promise<EnqueueResult> {
  const { job: name, experimentIds: ids } = run;
  const dedupId = `manual:${name}:${ids ? ids.join(',') : 'all'}`;
  const existing = await queue.getDeduplicationJobId(dedupId);
  const existingJob = existing ? await queue.getJob(existing) : undefined;
  const waiting = existingJob
    ? ['waiting', 'delayed', 'prioritized'].includes(await existingJob.getState())
    : false;
  const job = await queue.add(name, run.payload, { deduplication: { id: dedupId, keepLastIfActive: true } });
  return { job: name, id: job.id ?? null, deduplicated: waiting, experimentIds: ids };
}
