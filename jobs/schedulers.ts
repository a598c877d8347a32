/**
 * The job schedulers, one per job in the registry. `upsertJobScheduler` is idempotent by scheduler
 * id, so every worker process upserts all of them at start-up and the queue still holds exactly one
 * scheduler per job.
 */
import type { WorkerConfig } from '../src/config.js';
import type { JobSchedule } from './job-definition.js';
import { jobOptions, type StatcacheQueue } from './queue.js';
import { type JobName, jobDefinitions } from './registry.js';

/** Cron patterns are read in this zone, like every bucket boundary. */
const SCHEDULE_TIME_ZONE = 'UTC';

export type ScheduleSpec = { job: JobName } & JobSchedule;

/** Each job's schedule under `config`, in registry order (logged by the worker at start-up). */
export function schedules(config: WorkerConfig): ScheduleSpec[] {
  return jobDefinitions().map((definition) => ({ job: definition.name, ...definition.schedule(config) }));
}

/** Creates or updates every job's scheduler (cron patterns read in UTC). */
export async function upsertSchedulers(queue: StatcacheQueue, config: WorkerConfig): Promise<void> {
  for (const definition of jobDefinitions()) {
    const schedule = definition.schedule(config);
    const repeat =
      'every' in schedule ? { every: schedule.every } : { pattern: schedule.pattern, tz: SCHEDULE_TIME_ZONE };
    await queue.upsertJobScheduler(definition.name, repeat, {
      name: definition.name,
      data: definition.defaultPayload,
      opts: jobOptions(config),
    });
  }
}
