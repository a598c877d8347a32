/**
 * `statcache totals --experiment ids [--fresh]`: totals per experiment, in request order, with how
 * current the answer is (its freshness: `--json` rows carry it, the text output ends with a line on
 * stderr); `--fresh` makes it exact now.
 */
import type { Command } from 'commander';
import { readOptionsFrom as readOptions } from '../../src/read/fresh/read-options.js';
import { getExperimentTotals } from '../../src/read/get-experiment-totals.js';
import { setExitCode } from '../exit-codes.js';
import { formatTime, freshnessJson, freshnessLine, logLine, printJson, printTable } from '../output.js';
import { parseIdList } from '../parse-options.js';
import { assertExperimentsExist, readDbFor, runCommand } from '../run-command.js';

export function registerTotals(program: Command): void {
  program
    .command('totals')
    .description('sessions, participants, human messages and last activity per experiment, from buckets')
    .requiredOption('--experiment <ids>', 'experiment ids, e.g. 1,2,3', parseIdList)
    .option('--fresh', 'exact now: recount what pending changes touch (read-only)')
    .option('--json', 'print one JSON document')
    .action((options: { experiment: number[]; fresh?: boolean; json?: boolean }) =>
      runCommand({ json: options.json, reads: true }, async ({ config, db, replica, json }) => {
        const reads = readDbFor({ db, replica }, options.fresh);
        await assertExperimentsExist(reads, options.experiment, config.source);
        const totals = await getExperimentTotals(
          reads,
          options.experiment,
          readOptions(config, options.fresh),
        );
        const { freshness } = totals;
        const rows = options.experiment.map((id) => {
          const t = totals.get(id);
          return {
            experimentId: id,
            sessions: t?.sessions ?? 0,
            participants: t?.participants ?? 0,
            humanMessages: t?.humanMessages ?? 0,
            lastActivityAt: t?.lastActivityAt?.toISOString() ?? null,
            freshness: freshnessJson(freshness),
          };
        });
        if (json) printJson(rows);
        else {
          printTable(
            ['experiment', 'sessions', 'participants', 'human messages', 'last activity (UTC)'],
            rows.map((r) => [
              r.experimentId,
              r.sessions,
              r.participants,
              r.humanMessages,
              formatTime(r.lastActivityAt ? new Date(r.lastActivityAt) : null),
            ]),
          );
          logLine(freshnessLine(freshness));
        }
        return 0;
      }).then(setExitCode),
    );
}
