/** Manual runs: a job added now, deduplicated against an identical one already waiting. */
import type { JobData, JobName } from './names.js';
import type { StatcacheQueue } from './queue.js';

export interface EnqueueResult {
  job: JobName;
  id: string | null;
  /** True when an identical manual job was already waiting, so none was added. */
  deduplicated: boolean;
  experimentIds: number[] | null;
}

/**
 * Adds `name` with a deduplication id made of the job and its experiments: while such a job waits,
 * adding it again adds nothing; while one runs, one more waits (keepLastIfActive), so a change made
 * during a run is never left unprocessed.
 */
export async function enqueueJob(
  queue: StatcacheQueue,
  name: JobName,
  experimentIds?: readonly number[],
): Promise<EnqueueResult> {
  const ids = experimentIds?.length ? [...new Set(experimentIds)].sort((a, b) => a - b) : null;
  const dedupId = `manual:${name}:${ids ? ids.join(',') : 'all'}`;
  const existing = await queue.getDeduplicationJobId(dedupId);
  const existingJob = existing ? await queue.getJob(existing) : undefined;
  const waiting = existingJob
    ? ['waiting', 'delayed', 'prioritized'].includes(await existingJob.getState())
    : false;
  const data: JobData = ids ? { experimentIds: ids } : {};
  const job = await queue.add(name, data, { deduplication: { id: dedupId, keepLastIfActive: true } });
  return { job: name, id: job.id ?? null, deduplicated: waiting, experimentIds: ids };
}
