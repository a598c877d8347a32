/** `statcache refresh [--full] [--experiment ids]`: rebuild hourly buckets and the versions cache. */
import type { Command } from 'commander';
import { refreshFull } from '../../src/aggregate/refresh-full.js';
import { setExitCode } from '../exit-codes.js';
import { logLine, printJson, printLine } from '../output.js';
import { parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

/** Progress lines at most this often on long runs. */
const PROGRESS_INTERVAL_MS = 1_000;

export function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description('recompute buckets and versions cache from the chat tables')
    .option('--full', 'recompute everything in scope from source (the only mode until change capture lands)')
    .option('--experiment <ids>', 'only these experiments, e.g. 1,2,3', parseIdList)
    .option('--json', 'print one JSON document')
    .action((options: { full?: boolean; experiment?: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        if (!options.full) logLine('refresh: incremental refresh is not built yet; running a full refresh');
        if (options.experiment) await assertExperimentsExist(db, options.experiment);
        let lastPrint = Date.now();
        const result = await refreshFull(db, {
          experimentIds: options.experiment,
          excludedPlatforms: config.excludedPlatforms,
          batchExperiments: config.batchExperiments,
          onProgress: (p) => {
            const now = Date.now();
            if (now - lastPrint < PROGRESS_INTERVAL_MS) return;
            lastPrint = now;
            logLine(
              `refresh: ${p.experimentsDone}/${p.experimentsTotal} experiments, ${p.batches} batches, ${(p.elapsedMs / 1000).toFixed(1)} s`,
            );
          },
        });
        if (json) printJson(result);
        else
          printLine(
            `refreshed ${result.experiments} experiments in ${result.batches} batches: ` +
              `${result.experimentBuckets} experiment buckets, ${result.sessionBuckets} session buckets, ` +
              `${result.versionsUpdated} versions updated, ${result.orphanBucketsDeleted} orphan buckets removed ` +
              `(${(result.durationMs / 1000).toFixed(2)} s)`,
          );
        return 0;
      }).then(setExitCode),
    );
}
