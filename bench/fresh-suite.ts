/**
 * Fresh reads: the dashboard's page of the 25 busiest experiments (listExperiments, sorted by human
 * messages) with 0, 100, 1,000 and 10,000 pending changes touching those experiments, read plain,
 * fresh and live, every figure of a level measured in the same minute. Pending changes are human
 * messages into the page's sessions, each in a (chat, hour) of its own, so each is one change row:
 * half in a new hour, half late over the past 90 days. At every level the fresh page is checked
 * equal to the live one before anything is timed.
 */
import { sql } from 'drizzle-orm';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import { BATCH_EXPERIMENTS, EXCLUDED } from './core-suite.js';
import { listExperimentsLive } from './live-experiments.js';
import { formatMs, median, note, timed } from './measure.js';
import { previousExperimentsPage } from './previous-page.js';

export const PENDING_LEVELS = [0, 100, 1_000, 10_000] as const;
const PAGE = 25;
const READ_RUNS = 15;
const LIVE_RUNS = 3;
const HOUR_MS = 3_600_000;
const LATE_HOURS = 90 * 24;

export interface FreshLevel {
  pending: number;
  /** How the default fresh read answered: `fresh`, or `cached` when it fell back (beyond the bound). */
  mode: string;
  previousMs: number[];
  plainMs: number[];
  freshMs: number[];
  /** Beyond the default bound: the same read with the bound raised to the level, recounting. */
  unboundMs: number[];
  liveMs: number[];
}

const refresh = (db: NodePgStatDb) =>
  refreshIncremental(db, {
    excludedPlatforms: EXCLUDED,
    batchChanges: 50_000,
    batchExperiments: BATCH_EXPERIMENTS,
  });

/** The chats of the page's experiments, most recent sessions first. */
async function pageChats(db: NodePgStatDb, experimentIds: number[]): Promise<number[]> {
  const rows = await queryRows<{ chat_id: unknown }>(
    db,
    sql`select chat_id from experiment_sessions where experiment_id = any(${bigintArray(experimentIds)})
        order by id desc limit 20000`,
  );
  return rows.map((r) => toNumber(r.chat_id));
}

/** `n` human messages, each in a (chat, hour) of its own: one change row each. */
async function writePending(db: NodePgStatDb, chats: number[], n: number): Promise<number> {
  const newHour = DEFAULT_SEED_UNTIL.getTime() + HOUR_MS;
  const chatIds: number[] = [];
  const ats: string[] = [];
  for (let i = 0; i < n; i++) {
    const chat = chats[i % chats.length] as number;
    const round = Math.floor(i / chats.length);
    // Even i: the new hour (a later round, the hour after); odd i: a late hour of the past 90 days.
    const at =
      i % 2 === 0
        ? newHour + round * HOUR_MS + 60_000
        : DEFAULT_SEED_UNTIL.getTime() - (1 + ((i * 7919 + round * 104729) % LATE_HOURS)) * HOUR_MS + 120_000;
    chatIds.push(chat);
    ats.push(new Date(at).toISOString());
  }
  if (n > 0)
    await db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
      select c, 'human', a from unnest(${bigintArray(chatIds)}, ${sql.param(ats)}::timestamptz[]) as u(c, a)`);
  const [row] = await queryRows<{ n: unknown }>(db, sql`select count(*) as n from statcache_changes`);
  return toNumber(row?.n);
}

type PageRow = {
  experimentId: number;
  sessions: number;
  participants: number;
  humanMessages: number;
  lastActivityAt: Date | null;
};
const values = (rows: PageRow[]) =>
  JSON.stringify(
    rows.map((r) => [r.experimentId, r.sessions, r.participants, r.humanMessages, r.lastActivityAt]),
  );

export async function runFreshSuite(db: NodePgStatDb): Promise<FreshLevel[]> {
  const plain = () => listExperiments(db, { sortBy: 'humanMessages', limit: PAGE });
  const fresh = () => listExperiments(db, { sortBy: 'humanMessages', limit: PAGE, fresh: true });
  const unbound = (pending: number) => () =>
    listExperiments(db, { sortBy: 'humanMessages', limit: PAGE, fresh: true, freshMaxPending: pending });
  const live = () => listExperimentsLive(db, { limit: PAGE, offset: 0, excludedPlatforms: EXCLUDED });
  const previous = () => previousExperimentsPage(db, PAGE);
  await refresh(db);
  const ids = (await plain()).rows.map((r) => r.experimentId);
  const chats = await pageChats(db, ids);
  note(
    `fresh reads: ${chats.length} chats of the ${ids.length} busiest experiments take the pending changes`,
  );
  const levels: FreshLevel[] = [];
  for (const level of PENDING_LEVELS) {
    await refresh(db);
    await db.execute(
      sql`vacuum analyze statcache_changes, experiment_statistics_buckets, session_statistics_buckets, statcache_experiment_totals`,
    );
    const pending = await writePending(db, chats, level);
    const f = await fresh();
    const beyond = f.freshness.fellBack;
    const exact = beyond ? await unbound(pending)() : f;
    if (exact.freshness.mode !== 'fresh')
      throw new Error(`the fresh read at ${pending} pending answered ${exact.freshness.mode}`);
    if (values(exact.rows) !== values((await live()).rows))
      throw new Error(`the fresh page with ${pending} pending changes differs from the live page`);
    const out: FreshLevel = {
      pending,
      mode: beyond ? 'cached, fell back' : 'fresh',
      previousMs: [],
      plainMs: [],
      freshMs: [],
      unboundMs: [],
      liveMs: [],
    };
    for (let i = 0; i < 3; i++) {
      await previous();
      await plain();
      await fresh();
    }
    // Interleaved, so noise hits the three alike.
    for (let i = 0; i < READ_RUNS; i++) {
      out.previousMs.push((await timed(previous)).ms);
      out.plainMs.push((await timed(plain)).ms);
      out.freshMs.push((await timed(fresh)).ms);
      if (beyond) out.unboundMs.push((await timed(unbound(pending))).ms);
    }
    for (let i = 0; i < LIVE_RUNS; i++) out.liveMs.push((await timed(live)).ms);
    note(
      `fresh reads, ${pending} pending: previous ${formatMs(median(out.previousMs))}, plain ${formatMs(median(out.plainMs))}, fresh ${formatMs(median(out.freshMs))} (${out.mode})${beyond ? `, recounting anyway ${formatMs(median(out.unboundMs))}` : ''}, live ${formatMs(median(out.liveMs))}`,
    );
    levels.push(out);
  }
  await refresh(db);
  return levels;
}
