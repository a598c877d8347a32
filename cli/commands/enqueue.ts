/** `statcache enqueue refresh|compress|verify [--experiment ids]`: run a job now, through the worker. */
import { type Command, InvalidArgumentError } from 'commander';
import {
  ENQUEUE_ARGUMENTS,
  type JobDefinitionOf,
  type JobName,
  jobDefinitions,
  jobForEnqueueArgument,
} from '../../jobs/registry.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { oneOf, parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

/** "refresh, compress or verify" */
const JOB_CHOICES = `${ENQUEUE_ARGUMENTS.slice(0, -1).join(', ')} or ${ENQUEUE_ARGUMENTS.at(-1)}`;

/** "refresh: rebuild these experiments fully; verify: check these instead of a sample" */
const EXPERIMENT_HELP = jobDefinitions()
  .flatMap(({ enqueue }) =>
    enqueue.experiments.accepted ? [`${enqueue.argument}: ${enqueue.experiments.help}`] : [],
  )
  .join('; ');

/** The job `enqueue <job>` names; any other word is bad usage (exit 2) listing the choices. */
function parseJob(value: string): JobDefinitionOf<JobName> {
  const definition = jobForEnqueueArgument(oneOf(ENQUEUE_ARGUMENTS)(value));
  // oneOf has already rejected every word that names no job.
  if (!definition) throw new InvalidArgumentError(`no job is called '${value}'`);
  return definition;
}

export function registerEnqueue(program: Command): void {
  program
    .command('enqueue')
    .description(`queue a ${JOB_CHOICES} run now (deduplicated against one already waiting)`)
    .argument('<job>', JOB_CHOICES, parseJob)
    .option('--experiment <ids>', EXPERIMENT_HELP, parseIdList)
    .option('--json', 'print one JSON document')
    .action((definition: JobDefinitionOf<JobName>, options: { experiment?: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        // Planned first: a job that takes no --experiment is refused before anything is read or written.
        // Loaded here, not at start-up: other commands start without BullMQ and Redis.
        const [{ enqueueJob, planManualRun }, { createQueue }, { connectCommandRedis }] = await Promise.all([
          import('../../jobs/enqueue.js'),
          import('../../jobs/queue.js'),
          import('../../jobs/redis-connection.js'),
        ]);
        const run = planManualRun(definition, options.experiment);
        if (options.experiment) await assertExperimentsExist(db, options.experiment, config.source);
        const redis = await connectCommandRedis(config);
        const queue = createQueue(redis, config.worker);
        try {
          const result = await enqueueJob(queue, run);
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
