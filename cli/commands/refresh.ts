/** `statcache refresh [--full] [--experiment ids]`: apply changes to (or rebuild) the buckets and versions cache. */
import type { Command } from 'commander';
import { shapeAt } from '../../src/buckets/shape.js';
import { InvalidInputError } from '../../src/errors/error-classes.js';
import { refreshFull } from '../../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../../src/refresh/refresh-incremental.js';
import { setExitCode } from '../exit-codes.js';
import { logLine, printJson, printLine } from '../output.js';
import { parseIdList } from '../parse-options.js';
import { assertExperimentsExist, runCommand } from '../run-command.js';

/** Progress lines at most this often on long runs. */
const PROGRESS_INTERVAL_MS = 1_000;

export function registerRefresh(program: Command): void {
  program
    .command('refresh')
    .description('apply pending changes to the buckets and versions cache (or, with --full, rebuild them)')
    .option('--full', 'recompute everything in scope from source instead of applying captured changes')
    .option('--experiment <ids>', 'with --full: only these experiments, e.g. 1,2,3', parseIdList)
    .option('--json', 'print one JSON document')
    .action((options: { full?: boolean; experiment?: number[]; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        let lastPrint = Date.now();
        // Whole rebuilds write old ranges straight into the daily/monthly buckets the policy prescribes.
        const bucketShape = shapeAt(config.compression, new Date());
        if (!options.full) {
          if (options.experiment) {
            throw new InvalidInputError(
              '--experiment needs --full (an incremental refresh applies every pending change)',
            );
          }
          const result = await refreshIncremental(db, {
            excludedPlatforms: config.excludedPlatforms,
            source: config.source,
            batchChanges: config.batchChanges,
            batchExperiments: config.batchExperiments,
            rebuildConcurrency: config.rebuildConcurrency,
            bucketShape,
            onProgress: (p) => {
              const now = Date.now();
              if (now - lastPrint < PROGRESS_INTERVAL_MS) return;
              lastPrint = now;
              logLine(
                `refresh: ${p.changes} changes in ${p.batches} batches, ${(p.elapsedMs / 1000).toFixed(1)} s`,
              );
            },
          });
          if (json) printJson(result);
          else
            printLine(
              `applied ${result.changes} changes in ${result.batches} batches${result.fullRebuild ? ' (a TRUNCATE forced a full rebuild)' : ''}: ` +
                `${result.experimentBuckets} experiment buckets, ${result.sessionBuckets} session buckets, ` +
                `${result.versionsUpdated} versions updated (${(result.durationMs / 1000).toFixed(2)} s)`,
            );
          return 0;
        }
        if (options.experiment) await assertExperimentsExist(db, options.experiment, config.source);
        const result = await refreshFull(db, {
          experimentIds: options.experiment,
          excludedPlatforms: config.excludedPlatforms,
          batchExperiments: config.batchExperiments,
          concurrency: config.rebuildConcurrency,
          bucketShape,
          source: config.source,
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
