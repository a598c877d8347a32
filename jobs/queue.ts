/** The BullMQ queue and the options every statcache job runs with. */
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerConfig } from '../src/config.js';
import { type JobData, type JobName, QUEUE_NAME } from './names.js';

/** Finished jobs kept for `status` and debugging: bounded by count and by age, never forever. */
const KEEP_COMPLETED = { count: 200, age: 24 * 3600 };
const KEEP_FAILED = { count: 1000, age: 7 * 24 * 3600 };

/** Retries with exponential backoff; finished jobs retained by count and age. */
export function jobOptions(config: WorkerConfig): JobsOptions {
  return {
    attempts: config.jobAttempts,
    backoff: { type: 'exponential', delay: config.jobBackoffMs },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

export type StatcacheQueue = Queue<JobData, unknown, JobName>;

export function createQueue(connection: Redis, config: WorkerConfig): StatcacheQueue {
  return new Queue<JobData, unknown, JobName>(QUEUE_NAME, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: jobOptions(config),
  });
}
