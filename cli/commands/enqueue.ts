/** `statcache enqueue refresh|compress|verify [--experiment ids]`: run a job now, through the worker. */
import type { Command } from 'commander';
import { enqueueJob } from '../../jobs/enqueue.js';
import type { JobName } from '../../jobs/names.js';
import { createQueue } from '../../jobs/queue.js';
import { connectCommandRedis } from '../../jobs/redis-connection.js';
import { InvalidInputError } from '../../src/errors/error-classes.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { oneOf, parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

const JOBS = { refresh: 'refresh', compress: 'compress', verify: 'verify-sample' } as const satisfies Record<
  string,
  JobName
>;
type JobArg = keyof typeof JOBS;

export function registerEnqueue(program: Command): void {
  program
    .command('enqueue')
    .description('queue a refresh, compress or verify run now (deduplicated against one already waiting)')
    .argument('<job>', 'refresh, compress or verify', oneOf(Object.keys(JOBS) as JobArg[]))
    .option(
      '--experiment <ids>',
      'refresh: rebuild these experiments fully; verify: check these instead of a sample',
      parseIdList,
    )
    .option('--json', 'print one JSON document')
    .action((jobArg: JobArg, options: { experiment?: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        if (options.experiment && jobArg === 'compress')
          throw new InvalidInputError(
            '--experiment does not apply to compress (the policy covers every experiment)',
          );
        if (options.experiment) await assertExperimentsExist(db, options.experiment);
        const redis = await connectCommandRedis(config.redisUrl);
        const queue = createQueue(redis, config.worker);
        try {
          const result = await enqueueJob(queue, JOBS[jobArg], options.experiment);
          if (json) printJson(result);
          else
            printLine(
              result.deduplicated
                ? `${result.job} is already waiting (job ${result.id}); nothing added`
                : `queued ${result.job} as job ${result.id}${result.experimentIds ? ` for experiments ${result.experimentIds.join(', ')}` : ''}`,
            );
          return 0;
        } finally {
          await queue.close();
          redis.disconnect();
        }
      }).then(setExitCode),
    );
}
