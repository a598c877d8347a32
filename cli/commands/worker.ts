/** `statcache worker` (`npm start`): keeps the cache fresh with BullMQ job schedulers until stopped. */
import type { Command } from 'commander';
import { JOB_NAMES } from '../../jobs/registry.js';
import type { RunningWorker } from '../../jobs/worker.js';
import { setExitCode } from '../exit-codes.js';
import { runCommand } from '../run-command.js';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      `run the job schedulers (${JOB_NAMES.join(', ')}) until SIGTERM/SIGINT; any number of processes`,
    )
    .option('--json', 'logs are JSON lines on stdout either way; a start-up error is {"error"} there too')
    .action((options: { json?: boolean }) =>
      runCommand({ json: options.json, noDatabase: true }, async ({ config }) => {
        // Loaded here, not at start-up: other commands start without BullMQ and Redis.
        const [{ createLogger }, { startWorker }] = await Promise.all([
          import('../../jobs/logger.js'),
          import('../../jobs/worker.js'),
        ]);
        const logger = createLogger(config.logLevel);
        let worker: RunningWorker | null = null;
        let signals = 0;
        let stopped: () => void = () => {};
        const done = new Promise<void>((resolve) => {
          stopped = resolve;
        });
        const onSignal = (signal: NodeJS.Signals) => {
          signals += 1;
          if (signals > 1) {
            logger.warn({ signal }, 'second signal: exiting now');
            process.exit(1);
          }
          logger.info({ signal }, 'signal received');
          // During start-up (checks, the first full build) nothing is worth finishing: its
          // transactions roll back when the process exits.
          if (!worker) process.exit(0);
          worker.stop().then(stopped, stopped);
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
        worker = await startWorker(config, logger);
        await done;
        return 0;
      }).then((code) => {
        setExitCode(code);
        // Nothing should keep the process alive after a clean stop; exit promptly even if a socket lingers.
        process.exit(code);
      }),
    );
}
