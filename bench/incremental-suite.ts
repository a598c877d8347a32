/**
 * The incremental benchmark: incremental refresh after 1% new traffic (one new hour plus 0.1% late rows
 * over the past 90 days), and after a fixed-size change (10,000 new + 1,000 late, to show the cost is
 * flat in history size); and the write overhead of change capture. New traffic has the seed's shape:
 * new sessions (1% more, on the experiments of random existing ones) with 20 messages each, all in
 * the new hour. Late rows go to random existing sessions at random instants of the past 90 days.
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_BATCH_CHANGES, DEFAULT_BATCH_EXPERIMENTS } from '../src/config.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import { relationSql } from '../src/source/relation-sql.js';
import { verify } from '../src/verify/verify.js';
import type { BenchTarget } from './bench-database.js';
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

const refresh = ({ db, source }: BenchTarget) =>
  refreshIncremental(db, {
    excludedPlatforms: EXCLUDED,
    batchChanges: DEFAULT_BATCH_CHANGES,
    batchExperiments: DEFAULT_BATCH_EXPERIMENTS,
    source,
  });

type Round = IncrementalFigures['onePercent'];

/** New sessions with their messages in one new hour, late messages into old sessions, then one refresh. */
async function changeAndRefresh(
  target: BenchTarget,
  chats: number[],
  newRows: number,
  lateRows: number,
  hour: Date,
  seed: number,
) {
  await refresh(target); // start from an empty queue
  await insertNewSessions(
    target,
    Math.max(1, Math.round(newRows / MESSAGES_PER_SESSION)),
    newRows,
    hour,
    seed,
  );
  await insertMessages(target, chats, lateRows, overPastDays(hour, LATE_DAYS), seed + 2);
  // The inserts' dirty pages are written out now, not by the refresh evicting them from a small
  // buffer cache (outside the timing, at every size alike).
  await target.db.execute(sql`checkpoint`);
  const r = await timed(() => refresh(target));
  return { newRows, lateRows, changes: r.value.changes, ms: r.ms };
}

/**
 * The incremental figures of each target (one database per source profile), each phase's rounds
 * interleaved between the targets so that machine noise hits every target alike.
 */
export async function runIncrementalSuite(
  targets: readonly BenchTarget[],
  messages: number,
  rounds: number,
): Promise<IncrementalFigures[]> {
  const label = (t: BenchTarget) => (targets.length > 1 ? ` [${t.source.name}]` : '');
  const chats = await Promise.all(targets.map((t) => sessionChats(t)));
  const onePercent: Round[] = [];
  for (const [i, target] of targets.entries()) {
    const r = await changeAndRefresh(
      target,
      chats[i] as number[],
      Math.round(messages * NEW_SHARE),
      Math.round(messages * LATE_SHARE),
      DEFAULT_SEED_UNTIL,
      11,
    );
    onePercent.push(r);
    note(`1% traffic${label(target)}: ${r.changes} changes applied in ${formatMs(r.ms)}`);
  }
  const fixedRounds: Round[][] = targets.map(() => []);
  for (let round = 1; round <= FIXED_ROUNDS; round++) {
    for (const [i, target] of targets.entries()) {
      const r = await changeAndRefresh(
        target,
        chats[i] as number[],
        FIXED_NEW,
        FIXED_LATE,
        new Date(DEFAULT_SEED_UNTIL.getTime() + round * 3_600_000),
        11 + 10 * round,
      );
      fixedRounds[i]?.push(r);
      note(`fixed change ${round}${label(target)}: ${r.changes} changes applied in ${formatMs(r.ms)}`);
    }
  }
  const verified: { ms: number; mismatches: number }[] = [];
  for (const target of targets) {
    const v = await timed(() =>
      verify(target.db, {
        excludedPlatforms: EXCLUDED,
        batchExperiments: DEFAULT_BATCH_EXPERIMENTS,
        source: target.source,
      }),
    );
    verified.push({ ms: v.ms, mismatches: v.value.mismatches.length });
    note(`verify${label(target)}: ${v.value.mismatches.length} mismatches in ${formatMs(v.ms)}`);
  }

  const withCaptureMs: number[][] = targets.map(() => []);
  const withoutCaptureMs: number[][] = targets.map(() => []);
  const hour = new Date(DEFAULT_SEED_UNTIL.getTime() + (FIXED_ROUNDS + 1) * 3_600_000);
  /** One timed insert of OVERHEAD_ROWS, after a checkpoint (outside the timing). */
  const insertRound = async (i: number, capture: boolean, seed: number) => {
    const target = targets[i] as BenchTarget;
    const messagesTable = relationSql(target.source, 'messages', 'm').table;
    if (!capture)
      await target.db.execute(sql`alter table ${messagesTable} disable trigger statcache_capture_insert`);
    await target.db.execute(sql`checkpoint`);
    const ms = (
      await timed(() => insertMessages(target, chats[i] as number[], OVERHEAD_ROWS, inHour(hour), seed))
    ).ms;
    if (!capture)
      await target.db.execute(sql`alter table ${messagesTable} enable trigger statcache_capture_insert`);
    (capture ? withCaptureMs : withoutCaptureMs)[i]?.push(ms);
  };
  for (let round = 1; round <= rounds; round++) {
    for (const [i, target] of targets.entries()) {
      // Each insert grows the table the next one writes to: alternate which goes first, so neither
      // side always writes into the bigger table.
      const order = round % 2 === 1 ? [false, true] : [true, false];
      for (const capture of order) await insertRound(i, capture, (capture ? 200 : 100) + round);
      note(
        `round ${round}${label(target)}: 200k inserts without capture ${formatMs(withoutCaptureMs[i]?.at(-1) as number)}, with ${formatMs(withCaptureMs[i]?.at(-1) as number)}`,
      );
      await target.db.execute(sql`truncate statcache_changes`);
    }
  }
  return targets.map((target, i) => {
    const on = withCaptureMs[i] as number[];
    const off = withoutCaptureMs[i] as number[];
    note(`capture overhead${label(target)}: ${((median(on) / median(off) - 1) * 100).toFixed(1)}%`);
    const mine = fixedRounds[i] as Round[];
    // The middle round (FIXED_ROUNDS is odd), with its own change count.
    const middle = [...mine].sort((a, b) => a.ms - b.ms)[Math.floor(FIXED_ROUNDS / 2)] as Round;
    const v = verified[i] as { ms: number; mismatches: number };
    return {
      onePercent: onePercent[i] as Round,
      fixed: { ...middle, roundsMs: mine.map((r) => r.ms) },
      verifyMs: v.ms,
      verifyMismatches: v.mismatches,
      withCaptureMs: on,
      withoutCaptureMs: off,
    };
  });
}
