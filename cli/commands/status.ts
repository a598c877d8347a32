/** `statcache status`: buckets per size, last refresh, pending changes and lag, and the job queue. */
import type { Command } from 'commander';
import type { QueueStatus } from '../../jobs/queue-status.js';
import type { StatcacheConfig } from '../../src/config.js';
import { type ReplicaStatus, replicaReport } from '../../src/status/get-replica-status.js';
import { getStatus } from '../../src/status/get-status.js';
import { EXIT_FAILURE, setExitCode } from '../exit-codes.js';
import { formatTime, logLine, printJson, printLine, printTable } from '../output.js';
import { runCommand } from '../run-command.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'bucket counts per size with the oldest and newest bucket, last refresh, pending changes and lag, and the job queue',
    )
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean }) =>
      runCommand({ json: options.json, replica: true }, async ({ db, config, replica, json }) => {
        // The cache as the primary has it; the replica (DATABASE_READ_URL) only reports its lag.
        const status = await getStatus(db);
        const replicaPart = await replicaReport(replica ?? undefined);
        // The cache's state is worth showing even when Redis is down; the exit code still says so.
        const queue = await readQueue(config).catch((error: unknown) => ({
          error: error instanceof Error ? error.message : String(error),
        }));
        const queueError = 'error' in queue ? queue.error : null;
        if (json) {
          printJson({ ...status, ...replicaPart, queue: queueError ? null : queue, queueError });
          return queueError || replicaPart.replicaError ? EXIT_FAILURE : 0;
        }
        printTable(
          ['size', 'experiment buckets', 'session buckets', 'oldest start (UTC)', 'newest end (UTC)'],
          status.buckets.map((b) => [
            b.size,
            b.experimentBuckets,
            b.sessionBuckets,
            formatTime(b.oldestStart),
            formatTime(b.newestEnd),
          ]),
        );
        const run = status.lastRefresh;
        printLine();
        printLine(
          run
            ? `last refresh: ${run.mode}, finished ${run.finishedAt.toISOString()} after ${((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(2)} s, ` +
                `${run.experiments} experiments, ${run.experimentBuckets} experiment and ${run.sessionBuckets} session buckets written`
            : 'last refresh: never; run `statcache refresh --full`',
        );
        printLine(
          `pending changes: ${status.pending.count}` +
            (status.pending.oldestCapturedAt
              ? `, oldest captured ${status.pending.oldestCapturedAt.toISOString()} (lag ${status.pending.lagSeconds.toFixed(1)} s)`
              : ''),
        );
        if (replicaPart.replica) printLine(replicaLine(replicaPart.replica));
        if (replicaPart.replicaError) logLine(`statcache: replica: ${replicaPart.replicaError}`);
        printLine();
        if (queueError) {
          logLine(`statcache: queue: ${queueError}`);
          return EXIT_FAILURE;
        }
        printQueue(queue as QueueStatus);
        return replicaPart.replicaError ? EXIT_FAILURE : 0;
      }).then(setExitCode),
    );
}

/** The replica's line: caught up, or how far behind. */
function replicaLine(r: ReplicaStatus): string {
  const state = !r.inRecovery
    ? 'not a standby (DATABASE_READ_URL names a primary)'
    : r.caughtUp
      ? 'caught up'
      : r.lagSeconds === null
        ? 'behind (no transaction replayed since it started)'
        : `${r.lagSeconds.toFixed(1)} s behind (last replayed transaction committed ${formatTime(r.replayedAt)})`;
  return `replica ${r.target}: ${state}`;
}

async function readQueue(config: StatcacheConfig): Promise<QueueStatus> {
  // Loaded here, not at start-up: other commands start without BullMQ and Redis.
  const [{ createQueue }, { getQueueStatus }, { connectCommandRedis }] = await Promise.all([
    import('../../jobs/queue.js'),
    import('../../jobs/queue-status.js'),
    import('../../jobs/redis-connection.js'),
  ]);
  const redis = await connectCommandRedis(config);
  const queue = createQueue(redis, config.worker, { readOnly: true });
  try {
    return await getQueueStatus(queue, config.worker.queuePrefix);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

function printQueue(q: QueueStatus): void {
  printLine(
    `queue (prefix ${q.prefix}): ${q.counts.waiting} waiting, ${q.counts.active} active, ${q.counts.delayed} delayed, ${q.counts.failed} failed, ${q.counts.completed} completed`,
  );
  if (q.schedulers.length === 0) printLine('schedulers: none; start `statcache worker`');
  else
    printTable(
      ['scheduler', 'schedule', 'next run (UTC)'],
      q.schedulers.map((s) => [
        s.job,
        s.every !== null ? `every ${s.every} ms` : `${s.pattern} (UTC)`,
        formatTime(s.nextRunAt),
      ]),
    );
  printLine();
  if (q.lastRuns.length === 0) printLine('last runs: none yet');
  else
    printTable(
      ['job', 'last run (UTC)', 'result', 'duration'],
      q.lastRuns.map((r) => [
        r.job,
        formatTime(r.finishedAt),
        r.result === 'failed' ? `failed: ${String(r.detail)}` : 'completed',
        r.durationMs === null ? '-' : `${r.durationMs} ms`,
      ]),
    );
}
