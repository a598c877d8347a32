/**
 * The job schedulers. `upsertJobScheduler` is idempotent by scheduler id, so every worker process
 * upserts all of them at start-up and the queue still holds exactly one scheduler per job.
 */
import type { WorkerConfig } from '../src/config.js';
import type { JobName } from './names.js';
import { jobOptions, type StatcacheQueue } from './queue.js';

export interface ScheduleSpec {
  job: JobName;
  every?: number;
  pattern?: string;
}

export function schedules(config: WorkerConfig): ScheduleSpec[] {
  return [
    { job: 'refresh', every: config.refreshEveryMs },
    { job: 'compress', pattern: config.compressCron },
    { job: 'verify-sample', pattern: config.verifyCron },
  ];
}

/** Creates or updates the three schedulers (cron patterns read in UTC). */
export async function upsertSchedulers(queue: StatcacheQueue, config: WorkerConfig): Promise<void> {
  for (const spec of schedules(config)) {
    const repeat = spec.every !== undefined ? { every: spec.every } : { pattern: spec.pattern, tz: 'UTC' };
    await queue.upsertJobScheduler(spec.job, repeat, { name: spec.job, data: {}, opts: jobOptions(config) });
  }
}
