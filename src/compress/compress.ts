/**
 * Compression: hourly buckets of whole UTC days past the hourly cutoff become daily buckets, daily
 * buckets of whole UTC months past the daily cutoff become monthly ones, for experiment and session
 * buckets alike. One transaction per batch of experiments, under the same per-experiment locks as
 * the refresh, so a refresh never recounts a bucket being merged. Idempotent: a second run at the
 * same `now` finds nothing to merge.
 */
import { lockExperiments } from '../buckets/lock-experiments.js';
import { type CompressionPolicy, shapeAt } from '../buckets/shape.js';
import type { Executor, StatDb } from '../db/types.js';
import { withDeadlockRetry } from '../db/with-deadlock-retry.js';
import { findCompressibleExperiments } from './find-compressible.js';
import type { Merge } from './merge.js';
import { mergeExperimentBuckets } from './merge-experiment-buckets.js';
import { mergeSessionBuckets } from './merge-session-buckets.js';

export interface CompressOptions {
  policy: CompressionPolicy;
  /** The instant the cutoffs are measured from. @defaultValue the current time */
  now?: Date;
  /** Run every batch and roll it back: the figures are exact, nothing is written. */
  dryRun?: boolean;
  /** Experiments per transaction. */
  batchExperiments: number;
  onProgress?: (progress: { batches: number; experimentsDone: number; experimentsTotal: number }) => void;
}

/** Buckets of one table, by size. */
export interface BucketCounts {
  experimentBuckets: number;
  sessionBuckets: number;
}

export interface CompressResult {
  dryRun: boolean;
  now: Date;
  /** Hourly buckets of days ending at or before this are merged (now − hourly retention, to the day). */
  hourlyBefore: Date;
  /** Daily buckets of months ending at or before this are merged (now − daily retention, to the month). */
  dailyBefore: Date;
  experiments: number;
  batches: number;
  /** Fine buckets merged away (deleted into a coarser one), by their size. */
  merged: { hour: BucketCounts; day: BucketCounts };
  /** Coarse buckets created or added to, by their size (days merged on into months count here too). */
  written: { day: BucketCounts; month: BucketCounts };
  durationMs: number;
}

const zero = (): BucketCounts => ({ experimentBuckets: 0, sessionBuckets: 0 });

/** Applies the policy at `now` to every experiment that has something to merge. */
export async function compress(db: StatDb, options: CompressOptions): Promise<CompressResult> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const shape = shapeAt(options.policy, now);
  const hourlyBefore = shape.dayBefore as Date;
  const dailyBefore = shape.monthBefore as Date;
  const result: CompressResult = {
    dryRun: options.dryRun ?? false,
    now,
    hourlyBefore,
    dailyBefore,
    experiments: 0,
    batches: 0,
    merged: { hour: zero(), day: zero() },
    written: { day: zero(), month: zero() },
    durationMs: 0,
  };
  const steps: Merge[] = [
    { fine: 'hour', coarse: 'day', before: hourlyBefore },
    { fine: 'day', coarse: 'month', before: dailyBefore },
  ];
  const ids = await findCompressibleExperiments(db, shape);
  for (let i = 0; i < ids.length; i += options.batchExperiments) {
    const batch = ids.slice(i, i + options.batchExperiments);
    const counts = await withDeadlockRetry(() =>
      db
        .transaction(async (tx) => {
          const batchCounts = await compressBatch(tx, batch, steps);
          if (options.dryRun) throw new DryRunRollback(batchCounts);
          return batchCounts;
        })
        .catch((error: unknown) => {
          if (error instanceof DryRunRollback) return error.counts;
          throw error;
        }),
    );
    for (const [step, c] of counts.entries()) {
      const merge = steps[step] as Merge;
      result.merged[merge.fine].experimentBuckets += c.experiment.merged;
      result.merged[merge.fine].sessionBuckets += c.session.merged;
      result.written[merge.coarse].experimentBuckets += c.experiment.written;
      result.written[merge.coarse].sessionBuckets += c.session.written;
    }
    result.batches += 1;
    result.experiments += batch.length;
    options.onProgress?.({
      batches: result.batches,
      experimentsDone: result.experiments,
      experimentsTotal: ids.length,
    });
  }
  result.durationMs = Date.now() - started;
  return result;
}

type StepCounts = Record<'experiment' | 'session', { merged: number; written: number }>;

/** One batch: the locks, then each step for experiment and session buckets, in order (days before months). */
async function compressBatch(tx: Executor, ids: readonly number[], steps: Merge[]): Promise<StepCounts[]> {
  await lockExperiments(tx, ids);
  const counts: StepCounts[] = [];
  for (const step of steps) {
    counts.push({
      experiment: await mergeExperimentBuckets(tx, ids, step),
      session: await mergeSessionBuckets(tx, ids, step),
    });
  }
  return counts;
}

/** Thrown to roll a dry run's batch back once its figures are known. */
class DryRunRollback extends Error {
  override name = 'DryRunRollback';
  constructor(readonly counts: StepCounts[]) {
    super('dry run: rolled back');
  }
}
