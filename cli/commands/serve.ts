/** `statcache serve [--port 3000]`: the dashboard API, web page, /queues and /metrics. */
import { createServer, type Server } from 'node:http';
import type { Command } from 'commander';
import type { QueueRedis } from '../../jobs/redis-connection.js';
import { jobDefinition } from '../../jobs/registry.js';
import { InvalidInputError, ListenError } from '../../src/errors/error-classes.js';
import { isLoopback } from '../../src/http/loopback.js';
import { fullBuildRecorded } from '../../src/runs/refresh-runs.js';
import { setExitCode } from '../exit-codes.js';
import { logLine, printJsonLine } from '../output.js';
import { intInRange } from '../parse-options.js';
import { runCommand } from '../run-command.js';

/** Concurrent requests each hold a connection for one statement. */
const SERVER_POOL_SIZE = 10;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the dashboard: JSON API, web page at /, bull-board at /queues, metrics at /metrics')
    .option('--port <n>', 'TCP port (0 picks a free one)', intInRange(0, 65535), 3000)
    .option(
      '--host <address>',
      'address to listen on; beyond loopback only with STATCACHE_DASHBOARD_TOKEN set',
      '127.0.0.1',
    )
    .option('--json', 'print {"serving": url, host, port} on stdout once listening; an error as {"error"}')
    .action((options: { port: number; host: string; json?: boolean }) =>
      runCommand(
        { json: options.json, poolSize: SERVER_POOL_SIZE, reads: true },
        async ({ db, config, replica, json }) => {
          // Checked before Redis, the queue or a port: an open dashboard beyond loopback never starts.
          if (!isLoopback(options.host) && !config.dashboardToken)
            throw new InvalidInputError(
              `serve --host ${options.host} would open the dashboard to the network without authentication: set STATCACHE_DASHBOARD_TOKEN (every route but /healthz then needs it), or keep the default 127.0.0.1 behind a proxy`,
              'host',
            );
          // Loaded here, not at start-up: every other command starts without Redis, BullMQ and express.
          const [
            { enqueueJob, planManualRun },
            { createJobEvents },
            { createLogger, throttledErrorLog },
            { createQueue },
            { createQueueBoard },
            { getQueueStatus },
            { connectCommandRedis },
            { createApp },
            { createMetrics },
          ] = await Promise.all([
            import('../../jobs/enqueue.js'),
            import('../../jobs/job-events.js'),
            import('../../jobs/logger.js'),
            import('../../jobs/queue.js'),
            import('../../jobs/queue-board.js'),
            import('../../jobs/queue-status.js'),
            import('../../jobs/redis-connection.js'),
            import('../../src/http/create-app.js'),
            import('../../src/http/metrics.js'),
          ]);
          const logger = createLogger(config.logLevel, 'statcache-serve');
          // The dashboard still serves totals without Redis; only /queues and the queue status need it.
          let redis: QueueRedis | null = null;
          try {
            redis = await connectCommandRedis(config, { reconnect: true });
          } catch (error) {
            logLine(
              `statcache: ${error instanceof Error ? error.message : String(error)}; serving without /queues`,
            );
          }
          // It reconnects by itself; meanwhile /queues and the queue status answer with the error.
          redis?.on('error', throttledErrorLog(logger, 'redis connection error'));
          const queue = redis ? createQueue(redis, config.worker) : undefined;
          // A cache never built is read live (exact, slower) until a refresh builds it: queue that now.
          if (!(await fullBuildRecorded(db))) {
            if (queue) {
              const queued = await enqueueJob(queue, planManualRun(jobDefinition('refresh')));
              logLine(
                `statcache: the cache was never built, so reads are counted live; queued its first build (refresh job ${queued.id}), which a worker runs`,
              );
            } else
              logLine(
                'statcache: the cache was never built, so reads are counted live; run `statcache refresh` or a worker to build it',
              );
          }
          const metrics = createMetrics(
            db,
            redis && queue
              ? createJobEvents(queue, redis, config.worker, (error) =>
                  logger.warn(
                    { err: error },
                    'queue events connection failed; job metrics miss events until it is back',
                  ),
                )
              : undefined,
            { replica: replica ?? undefined },
          );
          // DATABASE_READ_URL: plain reads on the replica; fresh reads and the build check above on db.
          const app = createApp({
            db,
            replica: replica ?? undefined,
            metrics,
            excludedPlatforms: config.excludedPlatforms,
            source: config.source,
            freshMaxPending: config.freshMaxPending,
            queueBoard: queue ? createQueueBoard(queue, { writable: config.queueBoardWritable }) : undefined,
            token: config.dashboardToken ?? undefined,
            logger,
            queueStatus: queue ? () => getQueueStatus(queue, config.worker.queuePrefix) : undefined,
          });
          const server: Server = createServer(app);
          await new Promise<void>((resolve, reject) => {
            server.once('error', (error: NodeJS.ErrnoException) =>
              reject(
                new ListenError(
                  `cannot listen on ${options.host}:${options.port}: ${error.code === 'EADDRINUSE' ? 'the port is taken' : error.code === 'EACCES' ? 'no permission for that port' : error.message}; pick another with --port`,
                ),
              ),
            );
            server.listen(options.port, options.host, () => resolve());
          });
          const address = server.address();
          const port = typeof address === 'object' && address ? address.port : options.port;
          const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
          logLine(`statcache: serving on http://${shown}:${port}/`);
          if (json) printJsonLine({ serving: `http://${shown}:${port}/`, host: options.host, port });
          await new Promise<void>((resolve) => {
            const stop = () => server.close(() => resolve());
            process.once('SIGTERM', stop);
            process.once('SIGINT', stop);
          });
          await metrics.close();
          await queue?.close();
          redis?.disconnect();
          return 0;
        },
      ).then((code) => {
        setExitCode(code);
        process.exit(code);
      }),
    );
}
