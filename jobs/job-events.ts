/**
 * The dashboard's job metrics source over BullMQ's QueueEvents: completions and failures from every
 * worker process, each job read back for its name and run time.
 */
import { QueueEvents } from 'bullmq';
import type { WorkerConfig } from '../src/config.js';
import type { JobEventSource } from '../src/http/job-event-source.js';
import { SECOND_MS } from '../src/time/durations.js';
import { QUEUE_NAME, type StatcacheQueue } from './queue.js';
import { duplicateForBlocking, type QueueRedis } from './redis-connection.js';

/**
 * Listens on a duplicate of `connection` (QueueEvents blocks on it, so it retries every command:
 * `maxRetriesPerRequest: null`); jobs already removed when their event arrives are skipped.
 */
export function createJobEvents(
  queue: StatcacheQueue,
  connection: QueueRedis,
  config: WorkerConfig,
  onError: (error: Error) => void = () => {},
): JobEventSource {
  const events = new QueueEvents(QUEUE_NAME, {
    // No command timeout (it blocks on purpose), and reconnecting for as long as it takes.
    connection: duplicateForBlocking(connection),
    prefix: config.queuePrefix,
  });
  // Connection errors are retried by ioredis; the metrics miss events meanwhile, and say so.
  events.on('error', onError);
  return {
    onJobFinished(listener) {
      events.on('completed', ({ jobId }) => {
        queue.getJob(jobId).then(
          (job) => {
            if (job?.processedOn && job.finishedOn)
              listener({ job: job.name, durationSeconds: (job.finishedOn - job.processedOn) / SECOND_MS });
          },
          () => {},
        );
      });
    },
    onJobFailed(listener) {
      events.on('failed', ({ jobId }) => {
        queue.getJob(jobId).then(
          (job) => listener({ job: job?.name ?? 'unknown' }),
          () => {},
        );
      });
    },
    close: () => events.close(),
  };
}
