/**
 * `statcache verify [--experiment ids]`: recount live and list mismatches; exit 1 if any. Differences
 * that pending changes explain (lag, not drift) are counted apart and do not fail.
 */
import type { Command } from 'commander';
import type { Mismatch } from '../../src/verify/mismatch.js';
import { verify } from '../../src/verify/verify.js';
import { EXIT_FAILURE, setExitCode } from '../exit-codes.js';
import { logLine, printJson, printLine } from '../output.js';
import { parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

/** Mismatches printed in text mode; --json prints all. */
const MAX_PRINTED = 50;

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      'recount the chat tables live and compare with every stored bucket; exit 1 on a mismatch no pending change explains',
    )
    .option('--experiment <ids>', 'only these experiments, e.g. 1,2,3', parseIdList)
    .option('--json', 'print one JSON document')
    .action((options: { experiment?: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        if (options.experiment) await assertExperimentsExist(db, options.experiment, config.source);
        const result = await verify(db, {
          experimentIds: options.experiment,
          excludedPlatforms: config.excludedPlatforms,
          batchExperiments: config.batchExperiments,
          source: config.source,
        });
        if (json) printJson(result);
        else {
          printLine(
            `checked ${result.checked.experiments} experiments and ${result.checked.sessions} sessions: ` +
              `${result.mismatches.length} mismatch(es)` +
              (result.pending.length > 0
                ? `; ${result.pending.length} difference(s) pending: changes not refreshed yet explain them (the next refresh applies them)`
                : ''),
          );
          for (const m of result.mismatches.slice(0, MAX_PRINTED)) printLine(`  ${describe(m)}`);
          if (result.mismatches.length > MAX_PRINTED)
            logLine(`… ${result.mismatches.length - MAX_PRINTED} more; use --json for all`);
        }
        return result.mismatches.length > 0 ? EXIT_FAILURE : 0;
      }).then(setExitCode),
    );
}

function describe(m: Mismatch): string {
  switch (m.kind) {
    case 'experiment_bucket':
      return `experiment ${m.experimentId} ${m.bucketSize} ${m.bucketStart}: expected ${JSON.stringify(m.expected)}, stored ${JSON.stringify(m.actual)}`;
    case 'experiment_totals':
      return `experiment ${m.experimentId} totals: expected ${JSON.stringify(m.expected)}, stored ${JSON.stringify(m.actual)}`;
    case 'session_bucket':
      return `session ${m.sessionId} ${m.bucketSize} ${m.bucketStart}: expected ${JSON.stringify(m.expected)}, stored ${JSON.stringify(m.actual)}`;
    case 'session_versions':
      return `session ${m.sessionId} versions: expected ${JSON.stringify(m.expected)}, stored ${JSON.stringify(m.actual)}`;
    case 'orphan_buckets':
      return m.table === 'statcache_experiment_totals'
        ? `${m.table}: totals of vanished experiment ${m.id}`
        : `${m.table}: ${m.buckets} bucket(s) of vanished id ${m.id}`;
    case 'overlapping_buckets':
      return `${m.table} id ${m.id}: ${m.bucketSize} bucket ${m.bucketStart} overlaps its ${m.coveredBy.bucketSize} bucket ${m.coveredBy.bucketStart}`;
  }
}
