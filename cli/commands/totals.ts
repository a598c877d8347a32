/**
 * `statcache totals --experiment ids`: totals per experiment, in request order, each with how current
 * it is (its freshness: `--json` rows carry it, the text output ends with a line on stderr).
 */
import type { Command } from 'commander';
import { readFreshnessEach } from '../../src/read/freshness.js';
import { getExperimentTotals } from '../../src/read/get-experiment-totals.js';
import { setExitCode } from '../exit-codes.js';
import { formatTime, freshnessJson, freshnessLine, logLine, printJson, printTable } from '../output.js';
import { parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

export function registerTotals(program: Command): void {
  program
    .command('totals')
    .description('sessions, participants, human messages and last activity per experiment, from buckets')
    .requiredOption('--experiment <ids>', 'experiment ids, e.g. 1,2,3', parseIdList)
    .option('--json', 'print one JSON document')
    .action((options: { experiment: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ config, db, json }) => {
        await assertExperimentsExist(db, options.experiment, config.source);
        const totals = await getExperimentTotals(db, options.experiment, { source: config.source });
        const freshness = await readFreshnessEach(
          db,
          { experimentIds: options.experiment },
          { source: config.source },
        );
        const rows = options.experiment.map((id) => {
          const t = totals.get(id);
          return {
            experimentId: id,
            sessions: t?.sessions ?? 0,
            participants: t?.participants ?? 0,
            humanMessages: t?.humanMessages ?? 0,
            lastActivityAt: t?.lastActivityAt?.toISOString() ?? null,
            freshness: freshnessJson(freshness.get(id)),
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
          logLine(freshnessLine(freshness.values()));
        }
        return 0;
      }).then(setExitCode),
    );
}
