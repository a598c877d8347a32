/**
 * The incremental benchmark: incremental refresh after 1% new traffic (one new hour plus 0.1% late rows
 * over the past 90 days), and after a fixed-size change (10,000 new + 1,000 late, to show the cost is
 * flat in history size); and the write overhead of change capture. New traffic has the seed's shape:
 * new sessions (1% more, on the experiments of random existing ones) with 20 messages each, all in
 * the new hour. Late rows go to random existing sessions at random instants of the past 90 days.
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_BATCH_CHANGES, DEFAULT_BATCH_EXPERIMENTS } from '../src/config.js';
import type { NodePgStatDb } from '../src/db/create-db.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import { verify } from '../src/verify/verify.js';
import { EXCLUDED } from './core-suite.js';
import { formatMs, median, note, timed } from './measure.js';
import { inHour, insertMessages, insertNewSessions, overPastDays, sessionChats } from './traffic.js';

const NEW_SHARE = 0.01;
const LATE_SHARE = 0.001;
const LATE_DAYS = 90;
const FIXED_NEW = 10_000;
const FIXED_LATE = 1_000;
/** The fixed change is one refresh of a few hundred milliseconds: its median over rounds. */
const FIXED_ROUNDS = 3;
const OVERHEAD_ROWS = 200_000;
/** The seed's shape: 20 messages per session. */
const MESSAGES_PER_SESSION = 20;

export interface IncrementalFigures {
  onePercent: { newRows: number; lateRows: number; changes: number; ms: number };
  /** `ms`: the median of `roundsMs`, one new hour each. */
  fixed: { newRows: number; lateRows: number; changes: number; ms: number; roundsMs: number[] };
  verifyMs: number;
  verifyMismatches: number;
  withCaptureMs: number[];
  withoutCaptureMs: number[];
}

const refresh = (db: NodePgStatDb) =>
  refreshIncremental(db, {
    excludedPlatforms: EXCLUDED,
    batchChanges: DEFAULT_BATCH_CHANGES,
    batchExperiments: DEFAULT_BATCH_EXPERIMENTS,
  });

type Round = IncrementalFigures['onePercent'];

/** New sessions with their messages in one new hour, late messages into old sessions, then one refresh. */
async function changeAndRefresh(
  db: NodePgStatDb,
  chats: number[],
  newRows: number,
  lateRows: number,
  hour: Date,
  seed: number,
) {
  await refresh(db); // start from an empty queue
  await insertNewSessions(db, Math.max(1, Math.round(newRows / MESSAGES_PER_SESSION)), newRows, hour, seed);
  await insertMessages(db, chats, lateRows, overPastDays(hour, LATE_DAYS), seed + 2);
  // The inserts' dirty pages are written out now, not by the refresh evicting them from a small
  // buffer cache (outside the timing, at every size alike).
  await db.execute(sql`checkpoint`);
  const r = await timed(() => refresh(db));
  return { newRows, lateRows, changes: r.value.changes, ms: r.ms };
}

export async function runIncrementalSuite(
  db: NodePgStatDb,
  messages: number,
  rounds: number,
): Promise<IncrementalFigures> {
  const chats = await sessionChats(db);
  const onePercent = await changeAndRefresh(
    db,
    chats,
    Math.round(messages * NEW_SHARE),
    Math.round(messages * LATE_SHARE),
    DEFAULT_SEED_UNTIL,
    11,
  );
  note(`1% traffic: ${onePercent.changes} changes applied in ${formatMs(onePercent.ms)}`);
  const fixedRounds: Round[] = [];
  for (let round = 1; round <= FIXED_ROUNDS; round++) {
    const r = await changeAndRefresh(
      db,
      chats,
      FIXED_NEW,
      FIXED_LATE,
      new Date(DEFAULT_SEED_UNTIL.getTime() + round * 3_600_000),
      11 + 10 * round,
    );
    fixedRounds.push(r);
    note(`fixed change ${round}: ${r.changes} changes applied in ${formatMs(r.ms)}`);
  }
  // The middle round (FIXED_ROUNDS is odd), with its own change count.
  const middle = [...fixedRounds].sort((a, b) => a.ms - b.ms)[Math.floor(FIXED_ROUNDS / 2)] as Round;
  const fixed = { ...middle, roundsMs: fixedRounds.map((r) => r.ms) };
  const verified = await timed(() =>
    verify(db, { excludedPlatforms: EXCLUDED, batchExperiments: DEFAULT_BATCH_EXPERIMENTS }),
  );
  note(`verify: ${verified.value.mismatches.length} mismatches in ${formatMs(verified.ms)}`);

  const withCaptureMs: number[] = [];
  const withoutCaptureMs: number[] = [];
  const hour = new Date(DEFAULT_SEED_UNTIL.getTime() + (FIXED_ROUNDS + 1) * 3_600_000);
  /** One timed insert of OVERHEAD_ROWS, after a checkpoint (outside the timing). */
  const insertRound = async (capture: boolean, seed: number) => {
    if (!capture) await db.execute(sql`alter table chat_messages disable trigger statcache_capture_insert`);
    await db.execute(sql`checkpoint`);
    const ms = (await timed(() => insertMessages(db, chats, OVERHEAD_ROWS, inHour(hour), seed))).ms;
    if (!capture) await db.execute(sql`alter table chat_messages enable trigger statcache_capture_insert`);
    (capture ? withCaptureMs : withoutCaptureMs).push(ms);
  };
  for (let round = 1; round <= rounds; round++) {
    // Each insert grows the table the next one writes to: alternate which goes first, so neither
    // side always writes into the bigger table.
    const order = round % 2 === 1 ? [false, true] : [true, false];
    for (const capture of order) await insertRound(capture, (capture ? 200 : 100) + round);
    note(
      `round ${round}: 200k inserts without capture ${formatMs(withoutCaptureMs.at(-1) as number)}, with ${formatMs(withCaptureMs.at(-1) as number)}`,
    );
    await db.execute(sql`truncate statcache_changes`);
  }
  note(`capture overhead: ${((median(withCaptureMs) / median(withoutCaptureMs) - 1) * 100).toFixed(1)}%`);
  return {
    onePercent,
    fixed,
    verifyMs: verified.ms,
    verifyMismatches: verified.value.mismatches.length,
    withCaptureMs,
    withoutCaptureMs,
  };
}
