/**
 * The core benchmark: `statcache refresh --full` as the CLI runs it against two floors (the same
 * rollup statements run once over every experiment, unbatched, on one connection; and one CREATE
 * TABLE … AS SELECT per rollup as PostgreSQL plans it, ctas-floor.ts), and getExperimentTotals
 * against the live COUNT query.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type BucketShape, DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { DEFAULT_BATCH_EXPERIMENTS, DEFAULT_EXCLUDED_PLATFORMS } from '../src/config.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { bigintArray, textArray } from '../src/db/params.js';
import { queryRows, toDate, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import type { ExperimentTotals } from '../src/read/totals-types.js';
import { insertExperimentBuckets } from '../src/rebuild/insert-experiment-buckets.js';
import { insertParticipantFirsts } from '../src/rebuild/insert-participant-firsts.js';
import { insertSessionBuckets } from '../src/rebuild/insert-session-buckets.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import {
  countedExperimentJoin,
  isExperimentRow,
  platformCounted,
  type RelationSql,
  relationSql,
} from '../src/source/relation-sql.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { updateVersionsCache } from '../src/versions/update-versions-cache.js';
import type { BenchDatabase } from './bench-database.js';
import { runCli } from './cli-run.js';
import { ctasFloor } from './ctas-floor.js';
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
  /** `statcache refresh --full`, the CLI in a process of its own, spawn to exit. */
  fullMs: number[];
  /** That process's peak resident memory, MB. */
  fullPeakRssMb?: number[];
  floorMs: number[];
  /** The CREATE TABLE … AS floor: its total, and each rollup's statement (ctas-floor.ts's order). */
  ctasFloorMs?: number[];
  ctasStepsMs?: number[][];
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
async function floor(
  db: NodePgStatDb,
  ids: readonly number[],
  source: SourceProfile,
  shape: BucketShape,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(
      sql`truncate experiment_statistics_buckets, session_statistics_buckets, statcache_experiment_participants,
               statcache_experiment_totals`,
    );
    await insertParticipantFirsts(tx, ids, EXCLUDED, source);
    await insertExperimentBuckets(tx, ids, EXCLUDED, shape, source);
    await insertSessionBuckets(tx, ids, shape, source);
    await updateVersionsCache(tx, { experimentIds: ids }, source);
  });
}

/** Every experiment of `source` (not its published-version rows), in id order. */
async function experimentIds(db: NodePgStatDb, source: SourceProfile): Promise<number[]> {
  const E = relationSql(source, 'experiments', 'e');
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`select ${E.id} as id from ${E.from} where ${isExperimentRow(E)} order by 1`,
  );
  return rows.map((r) => toNumber(r.id));
}

/** The 25 experiments with the most counted human messages, from source. */
async function busiest(db: NodePgStatDb, source: SourceProfile): Promise<number[]> {
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const counted = countedExperimentJoin(source, S);
  const rows = await queryRows<{ id: unknown }>(
    db,
    sql`select ${counted.experiment} as id from ${S.from} ${counted.join} join ${M.from} on ${M.chatId} = ${S.chatId}
        where ${M.type} = 'human' and ${platformCounted(S.platform, textArray(EXCLUDED))}
        group by 1 order by count(*) desc, 1 limit ${BUSY_EXPERIMENTS}`,
  );
  return rows.map((r) => toNumber(r.id));
}

/**
 * Sessions of `s` that count for experiment `experimentId`: on that experiment's row or (where the
 * profile keeps published versions as rows) on one of its version rows, on a counted platform.
 */
function countedSessionOf(source: SourceProfile, S: RelationSql<'sessions'>, experimentId: SQL): SQL {
  const V = relationSql(source, 'experiments', 'v');
  const onExperiment =
    source.experiments.versionOf === undefined
      ? sql`${S.experimentId} = ${experimentId}`
      : sql`${S.experimentId} in (select ${V.id} from ${V.from} where ${V.id} = ${experimentId} or ${V.versionOf} = ${experimentId})`;
  return sql`${onExperiment} and ${platformCounted(S.platform, textArray(EXCLUDED))}`;
}

/**
 * The dashboard query without statcache: one statement counting live over the 25 experiments, as
 * the platform would write it on its own tables.
 */
function liveTotals(db: NodePgStatDb, ids: number[], source: SourceProfile) {
  const E = relationSql(source, 'experiments', 'e');
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const ofE = countedSessionOf(source, S, E.id);
  return queryRows<{
    id: unknown;
    sessions: unknown;
    participants: unknown;
    human_messages: unknown;
    last_at: unknown;
  }>(
    db,
    sql`select ${E.id} as id,
          (select count(*) from ${S.from} where ${ofE}) as sessions,
          (select count(distinct ${S.participantId}) from ${S.from} where ${ofE}) as participants,
          h.human_messages, h.last_at
        from ${E.from}
        cross join lateral (
          select count(*) as human_messages, max(${M.createdAt}) as last_at
          from ${S.from} join ${M.from} on ${M.chatId} = ${S.chatId}
          where ${ofE} and ${M.type} = 'human') h
        where ${E.id} = any(${bigintArray(ids)})`,
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

/**
 * The core figures of each target (one database per source profile), their rounds interleaved so
 * that machine noise hits every target alike.
 */
export async function runCoreSuite(
  targets: readonly BenchDatabase[],
  rounds: number,
): Promise<CoreFigures[]> {
  const figures = targets.map(
    (): CoreFigures => ({
      fullMs: [],
      fullPeakRssMb: [],
      floorMs: [],
      ctasFloorMs: [],
      ctasStepsMs: [],
      readMs: [],
      liveMs: [],
      bucketRows: 0,
      readExperiments: 0,
    }),
  );
  // Outside the timing: the floor is a lower bound, so it gets its ids for free.
  const allIds = await Promise.all(targets.map((t) => experimentIds(t.db, t.source)));
  // The shape the CLI writes today (it measures the policy from its own clock, as here).
  const shape = shapeAt(DEFAULT_COMPRESSION_POLICY, new Date());
  // Alternate the floors and the product path so cache warmth and machine noise hit all alike.
  // resetCache (untimed) empties the cache, clears every versions cache (else the second path's
  // UPDATE would find nothing to change) and the record of past runs (so each is a first build, as
  // after `migrate`), and vacuums, so every path starts from the same state.
  for (let round = 1; round <= rounds; round++) {
    for (const [i, target] of targets.entries()) {
      const { db, source } = target;
      const out = figures[i] as CoreFigures;
      const label = targets.length > 1 ? ` [${source.name}]` : '';
      await resetCache(db, source);
      const f = await timed(() => floor(db, allIds[i] as number[], source, shape));
      out.floorMs.push(f.ms);
      await resetCache(db, source);
      const steps = await ctasFloor(db, source, EXCLUDED, shape);
      out.ctasStepsMs?.push(steps);
      out.ctasFloorMs?.push(steps.reduce((a, b) => a + b, 0));
      await resetCache(db, source);
      const cli = await runCli(['refresh', '--full', '--json'], {
        DATABASE_URL: target.url,
        STATCACHE_SOURCE: source.name,
      });
      const written = JSON.parse(cli.stdout) as { experimentBuckets: number; sessionBuckets: number };
      out.fullMs.push(cli.ms);
      out.fullPeakRssMb?.push(cli.peakRssMb);
      out.bucketRows = written.experimentBuckets + written.sessionBuckets;
      note(
        `round ${round}${label}: floor ${formatMs(f.ms)}, CTAS floor ${formatMs(out.ctasFloorMs?.at(-1) ?? 0)} (${steps.map(formatMs).join(' + ')}), refresh --full ${formatMs(cli.ms)} (peak RSS ${cli.peakRssMb.toFixed(0)} MB)`,
      );
    }
  }
  for (const [i, target] of targets.entries())
    Object.assign(figures[i] as CoreFigures, await measureReads(target.db, target.source));
  return figures;
}

/**
 * `getExperimentTotals` for the busiest experiments against the live query, after checking both
 * answer the same: cached runs and live runs, each after a warm-up.
 */
export async function measureReads(
  db: NodePgStatDb,
  source: SourceProfile = STATCACHE_PROFILE,
): Promise<{ readMs: number[]; liveMs: number[]; readExperiments: number }> {
  // Reads run against the buckets settled as autovacuum would leave them.
  await db.execute(sql`vacuum analyze experiment_statistics_buckets, session_statistics_buckets`);
  const ids = await busiest(db, source);
  const read = () => getExperimentTotals(db, ids, { source });
  const live = () => liveTotals(db, ids, source);
  assertSameTotals(ids, await read(), await live());
  note(`cached totals of the ${ids.length} busiest experiments equal the live count`);
  const readMs: number[] = [];
  const liveMs: number[] = [];
  for (let i = 0; i < READ_WARMUP; i++) await read();
  for (let i = 0; i < READ_RUNS; i++) readMs.push((await timed(read)).ms);
  for (let i = 0; i < LIVE_WARMUP; i++) await live();
  for (let i = 0; i < LIVE_RUNS; i++) {
    const run = await timed(live);
    liveMs.push(run.ms);
    if (run.ms > LIVE_SLOW_MS) break;
  }
  note(
    `read: cached median ${formatMs(median(readMs))} p95 ${formatMs(percentile(readMs, 95))}, live median ${formatMs(median(liveMs))} (${liveMs.length} runs)`,
  );
  return { readMs, liveMs, readExperiments: ids.length };
}
