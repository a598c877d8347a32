/** `statcache compress [--dry-run] [--now ISO] [--json]`: apply the compression policy. */
import type { Command } from 'commander';
import { type BucketCounts, compress } from '../../src/compress/compress.js';
import { setExitCode } from '../exit-codes.js';
import { logLine, printJson, printLine } from '../output.js';
import { parseIsoInstant } from '../parse-options.js';
import { runCommand } from '../run-command.js';

/** Progress lines at most this often on long runs. */
const PROGRESS_INTERVAL_MS = 1_000;

const both = (c: BucketCounts) => `${c.experimentBuckets} experiment + ${c.sessionBuckets} session`;

export function registerCompress(program: Command): void {
  program
    .command('compress')
    .description(
      'merge hourly buckets of whole days into daily ones and daily buckets of whole months into monthly ones, by the policy',
    )
    .option('--dry-run', 'report what would be merged, write nothing')
    .option(
      '--now <iso>',
      'measure the cutoffs from this instant instead of the current time',
      parseIsoInstant,
    )
    .option('--json', 'print one JSON document')
    .action((options: { dryRun?: boolean; now?: Date; json?: boolean }) =>
      runCommand({ json: options.json }, async ({ db, config, json }) => {
        let lastPrint = Date.now();
        const result = await compress(db, {
          policy: config.compression,
          now: options.now,
          dryRun: options.dryRun,
          batchExperiments: config.batchExperiments,
          onProgress: (p) => {
            if (Date.now() - lastPrint < PROGRESS_INTERVAL_MS) return;
            lastPrint = Date.now();
            logLine(`compress: ${p.experimentsDone}/${p.experimentsTotal} experiments, ${p.batches} batches`);
          },
        });
        if (json) printJson(result);
        else {
          const verb = result.dryRun ? 'would merge' : 'merged';
          printLine(
            `${result.dryRun ? 'dry run: ' : ''}hourly buckets before ${result.hourlyBefore.toISOString()}, daily before ${result.dailyBefore.toISOString()}`,
          );
          printLine(
            `${verb} ${both(result.merged.hour)} hourly buckets into ${both(result.written.day)} daily buckets`,
          );
          printLine(
            `${verb} ${both(result.merged.day)} daily buckets into ${both(result.written.month)} monthly buckets`,
          );
          printLine(
            `${result.experiments} experiments in ${result.batches} batches (${(result.durationMs / 1000).toFixed(2)} s)`,
          );
        }
        return 0;
      }).then(setExitCode),
    );
}
