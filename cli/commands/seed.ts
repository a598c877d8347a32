/** `statcache seed`: load a deterministic synthetic chat workload (for demos, tests and benchmarks). */
import type { Command } from 'commander';
import { DEFAULT_SEED_DAYS, DEFAULT_SEED_UNTIL, seedWorkload } from '../../src/seed/seed-workload.js';
import { DEFAULT_SEED_MESSAGES, workloadSize } from '../../src/seed/workload-size.js';
import { setExitCode } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { intInRange, parseIsoInstant } from '../parse-options.js';
import { runCommand } from '../run-command.js';

interface Options {
  seed: number;
  messages: number;
  experiments?: number;
  teams?: number;
  sessions?: number;
  participants?: number;
  days: number;
  until: Date;
  json?: boolean;
}

const BIG = 100_000_000;

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description(
      'load a deterministic synthetic workload: teams, skewed experiments, sessions, messages, version tags',
    )
    .option(
      '--seed <n>',
      'pseudo-random seed; one seed loads once per database',
      intInRange(0, 2_000_000_000),
      1,
    )
    .option('--messages <n>', 'chat messages to create', intInRange(0, BIG), DEFAULT_SEED_MESSAGES)
    .option(
      '--experiments <n>',
      'experiments (default: messages / 2000, 3 to 1000)',
      intInRange(1, 10_000_000),
    )
    .option('--teams <n>', 'teams (default: experiments / 25)', intInRange(1, 1_000_000))
    .option('--sessions <n>', 'sessions (default: messages / 20)', intInRange(1, BIG))
    .option('--participants <n>', 'participants (default: sessions / 3)', intInRange(1, BIG))
    .option('--days <n>', 'history length in days', intInRange(1, 3660), DEFAULT_SEED_DAYS)
    .option('--until <iso>', 'end of the history', parseIsoInstant, DEFAULT_SEED_UNTIL)
    .option('--json', 'print one JSON document')
    .action((options: Options) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        const started = Date.now();
        const size = workloadSize(options.messages, {
          experiments: options.experiments,
          teams: options.teams,
          sessions: options.sessions,
          participants: options.participants,
        });
        const result = await seedWorkload(db, {
          seed: options.seed,
          size,
          days: options.days,
          until: options.until,
          source: config.source,
        });
        if (json) printJson(result);
        else
          printLine(
            `seeded ${result.teams} teams, ${result.experiments} experiments, ${result.participants} participants, ` +
              `${result.sessions} sessions, ${result.messages} messages, ${result.tagLinks} tag links ` +
              `(seed ${result.seed}, ${((Date.now() - started) / 1000).toFixed(1)} s)`,
          );
        return 0;
      }).then(setExitCode),
    );
}
