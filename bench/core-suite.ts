/**
 * Issue 2's benchmark: the batched full rebuild against the floor (the same rollup statements run
 * once over every experiment, unbatched), and getExperimentTotals against the live COUNT query.
 */
import { sql } from 'drizzle-orm';
import { insertExperimentHourBuckets } from '../src/aggregate/insert-experiment-hour-buckets.js';
import { insertParticipantFirsts } from '../src/aggregate/insert-participant-firsts.js';
import { insertSessionHourBuckets } from '../src/aggregate/insert-session-hour-buckets.js';
import { refreshFull } from '../src/aggregate/refresh-full.js';
import { updateVersionsCache } from '../src/aggregate/update-versions-cache.js';
import { DEFAULT_BATCH_EXPERIMENTS } from '../src/config.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { bigintArray, textArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { formatMs, median, note, percentile, timed } from './measure.js';
import { resetCache } from './reset-state.js';

export const EXCLUDED = ['evaluations'];
const READ_WARMUP = 3;
const READ_RUNS = 20;
const LIVE_RUNS = 5;
const BUSY_EXPERIMENTS = 25;

export interface CoreFigures {
  fullMs: number[];
  floorMs: number[];
  readMs: number[];
  liveMs: number[];
  bucketRows: number;
}

/** The floor: every statement of the rollup once, over all experiments, in one transaction. */
async function floor(db: NodePgStatDb): Promise<void> {
  const ids = (await queryRows<{ id: unknown }>(db, sql`select id from experiments order by id`)).map((r) =>
    toNumber(r.id),
  );
  await db.transaction(async (tx) => {
    await insertParticipantFirsts(tx, ids, EXCLUDED);
    await insertExperimentHourBuckets(tx, ids, EXCLUDED);
    await insertSessionHourBuckets(tx, ids);
    await updateVersionsCache(tx, { experimentIds: ids });
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

export async function runCoreSuite(db: NodePgStatDb, rounds: number): Promise<CoreFigures> {
  const figures: CoreFigures = { fullMs: [], floorMs: [], readMs: [], liveMs: [], bucketRows: 0 };
  // Alternate floor and product path so cache warmth and machine noise hit both alike.
  for (let round = 1; round <= rounds; round++) {
    await resetCache(db);
    const f = await timed(() => floor(db));
    figures.floorMs.push(f.ms);
    note(`round ${round}: floor ${formatMs(f.ms)}`);
    await resetCache(db);
    const r = await timed(() =>
      refreshFull(db, { excludedPlatforms: EXCLUDED, batchExperiments: DEFAULT_BATCH_EXPERIMENTS }),
    );
    figures.fullMs.push(r.ms);
    figures.bucketRows = r.value.experimentBuckets + r.value.sessionBuckets;
    note(`round ${round}: full rebuild ${formatMs(r.ms)} (${r.value.batches} batches)`);
  }
  await db.execute(sql`vacuum analyze experiment_statistics_buckets, session_statistics_buckets`);

  const ids = await busiest(db);
  const cached = await getExperimentTotals(db, ids);
  const live = await liveTotals(db, ids);
  for (const row of live) {
    const c = cached.get(toNumber(row.id));
    const same =
      c?.sessions === toNumber(row.sessions) &&
      c.participants === toNumber(row.participants) &&
      c.humanMessages === toNumber(row.human_messages);
    if (!same)
      throw new Error(
        `cached totals of experiment ${String(row.id)} differ from the live count: the benchmark is invalid`,
      );
  }
  for (let i = 0; i < READ_WARMUP; i++) await getExperimentTotals(db, ids);
  for (let i = 0; i < READ_RUNS; i++)
    figures.readMs.push((await timed(() => getExperimentTotals(db, ids))).ms);
  await liveTotals(db, ids);
  for (let i = 0; i < LIVE_RUNS; i++) figures.liveMs.push((await timed(() => liveTotals(db, ids))).ms);
  note(
    `read: cached median ${formatMs(median(figures.readMs))} p95 ${formatMs(percentile(figures.readMs, 95))}, live median ${formatMs(median(figures.liveMs))}`,
  );
  return figures;
}
