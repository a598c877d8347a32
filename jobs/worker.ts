/**
 * The long-running worker (`statcache worker`, `npm start`): checks PostgreSQL, the schema and Redis,
 * upserts the job schedulers, runs the first full build if the cache was never built (once, across
 * processes), then processes jobs until SIGTERM/SIGINT. Any number of processes can run it.
 */
import { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { shapeAt } from '../src/buckets/shape.js';
import type { StatcacheConfig } from '../src/config.js';
import { createDb } from '../src/db/create-db.js';
import { translateConnectionError, translateStatementTimeout } from '../src/errors/connection-errors.js';
import { SchemaNotMigratedError } from '../src/errors/error-classes.js';
import { schemaStatus } from '../src/install/migrate.js';
import { ensureBuilt } from '../src/rebuild/ensure-built.js';
import type { JobContext } from './context.js';
import type { JobSummary } from './job-definition.js';
import { throttledErrorLog } from './logger.js';
import { processJob } from './process-job.js';
import { createQueue, QUEUE_NAME } from './queue.js';
import { assertRedisReachable, createWorkerRedis, describeRedis } from './redis-connection.js';
import type { AnyJobPayload, JobName } from './registry.js';
import { schedules, upsertSchedulers } from './schedulers.js';

/** The refresh job runs one statement at a time; the first-build lock holds one more connection. */
const POOL_SIZE = 4;
export interface RunningWorker {
  /** Stops taking jobs, lets the running one finish within the shutdown deadline, closes everything. */
  stop(): Promise<void>;
}

export async function startWorker(config: StatcacheConfig, logger: Logger): Promise<RunningWorker> {
  const db = createDb(config.databaseUrl, {
    max: POOL_SIZE,
    applicationName: 'statcache-worker',
    connectTimeoutMs: config.timeouts.pgConnectMs,
    statementTimeoutMs: config.timeouts.pgStatementMs,
    onIdleError: (error) =>
      logger.warn({ err: error }, 'an idle database connection failed; the next statement reconnects'),
  });
  const redis = createWorkerRedis(config);
  const redisErrors = throttledErrorLog(logger, 'redis connection error');
  redis.on('error', redisErrors);
  try {
    const { applied, expected, pendingUpgrades } = await schemaStatus(db).catch((error: unknown) => {
      throw translateConnectionError(error, config.databaseUrl, config.timeouts.pgConnectMs);
    });
    if (applied < expected || pendingUpgrades.length > 0)
      throw new SchemaNotMigratedError(applied, expected, pendingUpgrades);
    await assertRedisReachable(redis, config);
  } catch (error) {
    redis.disconnect();
    await db.close();
    throw error;
  }

  const queue = createQueue(redis, config.worker);
  await upsertSchedulers(queue, config.worker);
  // A Redis that restarted without persistence comes back empty: put the schedulers back.
  redis.on('ready', () => {
    upsertSchedulers(queue, config.worker).then(
      () => logger.info('redis connection back; schedulers upserted'),
      (error: unknown) => redisErrors(error instanceof Error ? error : new Error(String(error))),
    );
  });
  const built = await ensureBuilt(db, {
    excludedPlatforms: config.excludedPlatforms,
    batchExperiments: config.batchExperiments,
    concurrency: config.rebuildConcurrency,
    bucketShape: shapeAt(config.compression, new Date()),
    source: config.source,
  }).catch((error: unknown) => {
    throw translateConnectionError(error, config.databaseUrl, config.timeouts.pgConnectMs);
  });
  if (built)
    logger.info(
      {
        experiments: built.experiments,
        bucketsWritten: built.experimentBuckets + built.sessionBuckets,
        durationMs: built.durationMs,
      },
      'first full build of the cache done',
    );

  const ctx: JobContext = { db, config, logger };
  const worker = new Worker<AnyJobPayload, JobSummary, JobName>(
    QUEUE_NAME,
    async (job) => {
      try {
        return await processJob(ctx, job);
      } catch (error) {
        throw translateConnectionError(
          translateStatementTimeout(error, {
            timeoutMs: config.timeouts.pgStatementMs,
            variable: 'STATCACHE_PG_STATEMENT_TIMEOUT_MS',
          }),
          config.databaseUrl,
          config.timeouts.pgConnectMs,
        );
      }
    },
    {
      connection: redis,
      prefix: config.worker.queuePrefix,
      concurrency: 1,
      lockDuration: config.worker.jobLockMs,
      stalledInterval: config.worker.jobLockMs,
    },
  );
  // With 'job completed' or 'job failed', a run's span in the logs (e.g. to show no job ran twice at once).
  worker.on('active', (job) => {
    logger.debug({ job: job.name, id: job.id, attempt: job.attemptsMade }, 'job started');
  });
  worker.on('completed', (job, result) => {
    logger.info(
      { job: job.name, id: job.id, attempt: job.attemptsMade, durationMs: duration(job), ...result },
      'job completed',
    );
  });
  worker.on('failed', (job, error) => {
    logger.error(
      {
        job: job?.name,
        id: job?.id,
        attempt: job?.attemptsMade,
        durationMs: job ? duration(job) : undefined,
        error: error.message,
      },
      'job failed',
    );
  });
  worker.on('error', redisErrors);
  logger.info(
    {
      redis: describeRedis(config),
      redisCluster: config.redisCluster !== null,
      prefix: config.worker.queuePrefix,
      schedules: schedules(config.worker),
    },
    'worker started',
  );

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      logger.info(
        { deadlineMs: config.worker.shutdownTimeoutMs },
        'shutting down: no new jobs, finishing the running one',
      );
      const finished = await withDeadline(worker.close(), config.worker.shutdownTimeoutMs);
      if (!finished) {
        logger.warn('the running job did not finish before the deadline; it will be retried as stalled');
        await withDeadline(worker.close(true), 1_000);
      }
      await withDeadline(queue.close(), 1_000);
      redis.disconnect();
      // A job abandoned at the deadline still holds a connection; its transaction rolls back on exit.
      if (finished) await db.close();
      logger.info('worker stopped');
    })();
    return stopping;
  };
  return { stop };
}

function duration(job: { processedOn?: number; finishedOn?: number }): number | undefined {
  return job.processedOn && job.finishedOn ? job.finishedOn - job.processedOn : undefined;
}

/** True if `promise` settled within `ms`. */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
