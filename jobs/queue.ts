/** The BullMQ queue and the options every statcache job runs with. */
import { type JobsOptions, Queue } from 'bullmq';
import type { WorkerConfig } from '../src/config.js';
import { DAY_MS, HOUR_MS, SECOND_MS } from '../src/time/durations.js';
import type { QueueRedis } from './redis-connection.js';
import type { AnyJobPayload, JobName } from './registry.js';

/** One queue holds every statcache job; the key prefix comes from configuration. */
export const QUEUE_NAME = 'statcache';

/** How long finished jobs are kept for `status` and debugging (bounded by age and by count). */
const KEEP_COMPLETED_MS = 24 * HOUR_MS;
const KEEP_FAILED_MS = 7 * DAY_MS;
/** BullMQ's `removeOnComplete`/`removeOnFail` take their age in seconds, not milliseconds. */
const KEEP_COMPLETED = { count: 200, age: KEEP_COMPLETED_MS / SECOND_MS };
const KEEP_FAILED = { count: 1000, age: KEEP_FAILED_MS / SECOND_MS };

/** Retries with exponential backoff; finished jobs retained by count and age. */
export function jobOptions(config: WorkerConfig): JobsOptions {
  return {
    attempts: config.jobAttempts,
    backoff: { type: 'exponential', delay: config.jobBackoffMs },
    removeOnComplete: KEEP_COMPLETED,
    removeOnFail: KEEP_FAILED,
  };
}

export type StatcacheQueue = Queue<AnyJobPayload, unknown, JobName>;

/**
 * The queue on `connection` (one Redis or a Redis Cluster). `readOnly` (for `status`) keeps BullMQ
 * from writing the queue's meta key on opening it, so that reading the queue's state changes nothing
 * in Redis.
 */
export function createQueue(
  connection: QueueRedis,
  config: WorkerConfig,
  options: { readOnly?: boolean } = {},
): StatcacheQueue {
  return new Queue<AnyJobPayload, unknown, JobName>(QUEUE_NAME, {
    connection,
    prefix: config.queuePrefix,
    defaultJobOptions: jobOptions(config),
    skipMetasUpdate: options.readOnly === true,
  });
}
