/**
 * The compression benchmark: compressing a whole 90-day hourly history built by a full rebuild (bucket rows
 * before and after), the same history rebuilt straight into the policy's shape, compressing one day
 * of hourly buckets for every experiment, and the busiest experiments' totals read from the
 * compressed buckets against the live query. Ends with verify (0 mismatches expected).
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { compress } from '../src/compress/compress.js';
import { DEFAULT_BATCH_EXPERIMENTS } from '../src/config.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { queryRows, toDate, toNumber } from '../src/db/types.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import { verify } from '../src/verify/verify.js';
import { BATCH_EXPERIMENTS, EXCLUDED, measureReads } from './core-suite.js';
import { formatMs, note, timed } from './measure.js';
import { resetCache } from './reset-state.js';

/** Bucket rows of both tables by size. */
export interface BucketRows {
  hour: number;
  day: number;
  month: number;
}

export interface CompressFigures {
  /** The `now` every step measures its cutoffs from: the newest message. */
  now: string;
  hourlyRebuild: { ms: number; rows: BucketRows };
  history: { ms: number; rows: BucketRows; experiments: number; batches: number };
  shapedRebuild: { ms: number; rows: BucketRows };
  oneDay: { ms: number; experiments: number; hourlyMerged: number; dailyWritten: number; day: string };
  readMs: number[];
  liveMs: number[];
  readExperiments: number;
  verifyMs: number;
  verifyMismatches: number;
}

const DAY_MS = 86_400_000;

async function bucketRows(db: NodePgStatDb): Promise<BucketRows> {
  const rows = await queryRows<{ bucket_size: keyof BucketRows; n: unknown }>(
    db,
    sql`select bucket_size, sum(n) as n from (
          select bucket_size, count(*) as n from experiment_statistics_buckets group by 1
          union all
          select bucket_size, count(*) from session_statistics_buckets group by 1) c
        group by 1`,
  );
  const counts: BucketRows = { hour: 0, day: 0, month: 0 };
  for (const r of rows) counts[r.bucket_size] = toNumber(r.n);
  return counts;
}

const total = (r: BucketRows) => r.hour + r.day + r.month;
const describe = (r: BucketRows) =>
  `${total(r).toLocaleString('en')} rows (${r.hour} hourly, ${r.day} daily, ${r.month} monthly)`;

export async function runCompressSuite(db: NodePgStatDb): Promise<CompressFigures> {
  const [latest] = await queryRows<{ at: unknown }>(db, sql`select max(created_at) as at from chat_messages`);
  const now = toDate(latest?.at) as Date;
  const policy = DEFAULT_COMPRESSION_POLICY;
  const rebuild = (shaped: boolean) =>
    refreshFull(db, {
      excludedPlatforms: EXCLUDED,
      batchExperiments: BATCH_EXPERIMENTS,
      bucketShape: shaped ? shapeAt(policy, now) : undefined,
    });

  // 1. The whole history hourly, as a cache built before compression existed, then compressed.
  await resetCache(db, STATCACHE_PROFILE);
  const hourly = await timed(() => rebuild(false));
  const hourlyRows = await bucketRows(db);
  note(`hourly full rebuild ${formatMs(hourly.ms)}: ${describe(hourlyRows)}`);
  await db.execute(sql`vacuum analyze experiment_statistics_buckets, session_statistics_buckets`);
  const history = await timed(() =>
    compress(db, { policy, now, batchExperiments: DEFAULT_BATCH_EXPERIMENTS }),
  );
  const historyRows = await bucketRows(db);
  note(`compressed the history in ${formatMs(history.ms)}: ${describe(historyRows)}`);

  // 2. Reads from the compressed buckets, and verify.
  const reads = await measureReads(db);
  const verified = await timed(() =>
    verify(db, { excludedPlatforms: EXCLUDED, batchExperiments: DEFAULT_BATCH_EXPERIMENTS }),
  );
  note(`verify: ${verified.value.mismatches.length} mismatches in ${formatMs(verified.ms)}`);

  // 3. The same history rebuilt straight into the policy's shape.
  await resetCache(db, STATCACHE_PROFILE);
  const shaped = await timed(() => rebuild(true));
  const shapedRows = await bucketRows(db);
  note(`full rebuild in the policy's shape ${formatMs(shaped.ms)}: ${describe(shapedRows)}`);

  // 4. One day: a day later, the oldest hourly day of every experiment is whole before the cutoff.
  await db.execute(sql`vacuum analyze experiment_statistics_buckets, session_statistics_buckets`);
  const dayLater = new Date(now.getTime() + DAY_MS);
  const oneDay = await timed(() =>
    compress(db, { policy, now: dayLater, batchExperiments: DEFAULT_BATCH_EXPERIMENTS }),
  );
  const day = shapeAt(policy, now).dayBefore as Date;
  const r = oneDay.value;
  note(
    `one day (${day.toISOString().slice(0, 10)}) for ${r.experiments} experiments: ${r.merged.hour.experimentBuckets + r.merged.hour.sessionBuckets} hourly buckets merged in ${formatMs(oneDay.ms)}`,
  );
  if (r.merged.day.experimentBuckets + r.merged.day.sessionBuckets > 0)
    throw new Error('the one-day compression also merged months: the benchmark is invalid');

  return {
    now: now.toISOString(),
    hourlyRebuild: { ms: hourly.ms, rows: hourlyRows },
    history: {
      ms: history.ms,
      rows: historyRows,
      experiments: history.value.experiments,
      batches: history.value.batches,
    },
    shapedRebuild: { ms: shaped.ms, rows: shapedRows },
    oneDay: {
      ms: oneDay.ms,
      experiments: r.experiments,
      hourlyMerged: r.merged.hour.experimentBuckets + r.merged.hour.sessionBuckets,
      dailyWritten: r.written.day.experimentBuckets + r.written.day.sessionBuckets,
      day: day.toISOString().slice(0, 10),
    },
    ...reads,
    verifyMs: verified.ms,
    verifyMismatches: verified.value.mismatches.length,
  };
}
