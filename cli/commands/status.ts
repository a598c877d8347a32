/** `statcache status`: bucket counts per size, their range, and the last refresh. */
import type { Command } from 'commander';
import { getStatus } from '../../src/status/get-status.js';
import { setExitCode } from '../exit-codes.js';
import { formatTime, printJson, printLine, printTable } from '../output.js';
import { runCommand } from '../run-command.js';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('bucket counts per size, oldest and newest bucket, last refresh, pending changes and lag')
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, json }) => {
        const status = await getStatus(db);
        if (json) {
          printJson(status);
          return 0;
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
        return 0;
      }).then(setExitCode),
    );
}
