/**
 * The core benchmark: the batched full rebuild against the floor (the same rollup statements run
 * once over every experiment, unbatched), and getExperimentTotals against the live COUNT query.
 */
import { sql } from 'drizzle-orm';
import { HOURLY_SHAPE } from '../src/buckets/shape.js';
import { DEFAULT_BATCH_EXPERIMENTS, DEFAULT_EXCLUDED_PLATFORMS } from '../src/config.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { bigintArray, textArray } from '../src/db/params.js';
import { queryRows, toDate, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import type { ExperimentTotals } from '../src/read/totals-types.js';
import { insertExperimentBuckets } from '../src/rebuild/insert-experiment-buckets.js';
import { insertParticipantFirsts } from '../src/rebuild/insert-participant-firsts.js';
import { insertSessionBuckets } from '../src/rebuild/insert-session-buckets.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import { updateVersionsCache } from '../src/versions/update-versions-cache.js';
import { formatMs, median, note, percentile, timed } from './measure.js';
import { resetCache } from './reset-state.js';

/** Production's excluded platforms. */
export const EXCLUDED = DEFAULT_EXCLUDED_PLATFORMS;
/** The batch size the ≤ 1.3× rebuild target is stated for: the product default. */
export const BATCH_EXPERIMENTS = DEFAULT_BATCH_EXPERIMENTS;
const READ_WARMUP = 3;
const READ_RUNS = 20;
const LIVE_WARMUP = 1;
const LIVE_RUNS = 5;
/** A live run slower than this ends the series early: the median of fewer runs is precise enough. */
const LIVE_SLOW_MS = 10_000;
const BUSY_EXPERIMENTS = 25;

export interface CoreFigures {
  fullMs: number[];
  floorMs: number[];
  readMs: number[];
  liveMs: number[];
  bucketRows: number;
  /** Experiments read (BUSY_EXPERIMENTS, or all of them in a smaller workload). */
  readExperiments: number;
}

/**
 * The floor: the rollup's statements once over every experiment, in one transaction, with no
 * batching, locks or progress bookkeeping. It includes insertParticipantFirsts because every batch of
 * refreshFull writes participant firsts too; the truncates mirror the batches' deletes (the tables
 * are already empty here, as they are for refreshFull after resetCache).
 */
async function floor(db: NodePgStatDb, ids: readonly number[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`truncate experiment_statistics_buckets, session_statistics_buckets, statcache_experiment_participants,
               statcache_experiment_totals`,
    );
    await insertParticipantFirsts(tx, ids, EXCLUDED, STATCACHE_PROFILE);
    await insertExperimentBuckets(tx, ids, EXCLUDED, HOURLY_SHAPE, STATCACHE_PROFILE);
    await insertSessionBuckets(tx, ids, HOURLY_SHAPE, STATCACHE_PROFILE);
    await updateVersionsCache(tx, { experimentIds: ids }, STATCACHE_PROFILE);
  });
}

/** The 25 experiments with the most counted human messages, from source. */
async function busiest(db: NodePgStatDb): Promise<number[]> {
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`select s.experiment_id as id from experiment_sessions s join chat_messages m on m.chat_id = s.chat_id
        where m.message_type = 'human' and s.platform <> all(${textArray(EXCLUDED)})
        group by 1 order by count(*) desc, 1 limit ${BUSY_EXPERIMENTS}`,
  );
  return rows.map((r) => toNumber(r.id));
}

/** The dashboard query without statcache: one statement counting live over the 25 experiments. */
function liveTotals(db: NodePgStatDb, ids: number[]) {
  return queryRows<{
    id: unknown;
    sessions: unknown;
    participants: unknown;
    human_messages: unknown;
    last_at: unknown;
  }>(
    db,
    sql`select e.id,
          (select count(*) from experiment_sessions s where s.experiment_id = e.id and s.platform <> all(${textArray(EXCLUDED)})) as sessions,
          (select count(distinct s.participant_id) from experiment_sessions s
            where s.experiment_id = e.id and s.platform <> all(${textArray(EXCLUDED)})) as participants,
          h.human_messages, h.last_at
        from experiments e
        cross join lateral (
          select count(*) as human_messages, max(m.created_at) as last_at
          from experiment_sessions s join chat_messages m on m.chat_id = s.chat_id
          where s.experiment_id = e.id and s.platform <> all(${textArray(EXCLUDED)}) and m.message_type = 'human') h
        where e.id = any(${bigintArray(ids)})`,
  );
}

/** Fails the benchmark unless the cache answers exactly what the live query counts. */
function assertSameTotals(
  ids: readonly number[],
  cached: Map<number, ExperimentTotals>,
  live: Awaited<ReturnType<typeof liveTotals>>,
): void {
  if (live.length !== ids.length || cached.size !== ids.length)
    throw new Error(
      `expected totals for ${ids.length} experiments, got ${live.length} live and ${cached.size} cached: the benchmark is invalid`,
    );
  for (const row of live) {
    const id = toNumber(row.id);
    const expected = {
      sessions: toNumber(row.sessions),
      participants: toNumber(row.participants),
      humanMessages: toNumber(row.human_messages),
      lastActivityAt: toDate(row.last_at)?.toISOString() ?? null,
    };
    const c = cached.get(id);
    const got = c && {
      sessions: c.sessions,
      participants: c.participants,
      humanMessages: c.humanMessages,
      lastActivityAt: c.lastActivityAt?.toISOString() ?? null,
    };
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(
        `cached totals of experiment ${id} differ from the live count (cached ${JSON.stringify(got)}, live ${JSON.stringify(expected)}): the benchmark is invalid`,
      );
  }
}

export async function runCoreSuite(db: NodePgStatDb, rounds: number): Promise<CoreFigures> {
  const figures: CoreFigures = {
    fullMs: [],
    floorMs: [],
    readMs: [],
    liveMs: [],
    bucketRows: 0,
    readExperiments: 0,
  };
  // Outside the timing: the floor is a lower bound, so it gets its ids for free.
  const allIds = (await queryRows<{ id: unknown }>(db, sql`select id from experiments order by id`)).map(
    (r) => toNumber(r.id),
  );
  // Alternate floor and product path so cache warmth and machine noise hit both alike. resetCache
  // (untimed) empties the cache, clears every cached_experiment_versions (else the second path's
  // UPDATE would find nothing to change) and vacuums, so both paths start from the same state.
  for (let round = 1; round <= rounds; round++) {
    await resetCache(db);
    const f = await timed(() => floor(db, allIds));
    figures.floorMs.push(f.ms);
    note(`round ${round}: floor ${formatMs(f.ms)}`);
    await resetCache(db);
    const r = await timed(() =>
      refreshFull(db, { excludedPlatforms: EXCLUDED, batchExperiments: BATCH_EXPERIMENTS }),
    );
    figures.fullMs.push(r.ms);
    figures.bucketRows = r.value.experimentBuckets + r.value.sessionBuckets;
    note(`round ${round}: full rebuild ${formatMs(r.ms)} (${r.value.batches} batches)`);
  }
  const reads = await measureReads(db);
  return { ...figures, ...reads };
}

/**
 * `getExperimentTotals` for the busiest experiments against the live query, after checking both
 * answer the same: cached runs and live runs, each after a warm-up.
 */
export async function measureReads(
  db: NodePgStatDb,
): Promise<{ readMs: number[]; liveMs: number[]; readExperiments: number }> {
  // Reads run against the buckets settled as autovacuum would leave them.
  await db.execute(sql`vacuum analyze experiment_statistics_buckets, session_statistics_buckets`);
  const ids = await busiest(db);
  assertSameTotals(ids, await getExperimentTotals(db, ids), await liveTotals(db, ids));
  note(`cached totals of the ${ids.length} busiest experiments equal the live count`);
  const readMs: number[] = [];
  const liveMs: number[] = [];
  for (let i = 0; i < READ_WARMUP; i++) await getExperimentTotals(db, ids);
  for (let i = 0; i < READ_RUNS; i++) readMs.push((await timed(() => getExperimentTotals(db, ids))).ms);
  for (let i = 0; i < LIVE_WARMUP; i++) await liveTotals(db, ids);
  for (let i = 0; i < LIVE_RUNS; i++) {
    const live = await timed(() => liveTotals(db, ids));
    liveMs.push(live.ms);
    if (live.ms > LIVE_SLOW_MS) break;
  }
  note(
    `read: cached median ${formatMs(median(readMs))} p95 ${formatMs(percentile(readMs, 95))}, live median ${formatMs(median(liveMs))} (${liveMs.length} runs)`,
  );
  return { readMs, liveMs, readExperiments: ids.length };
}
