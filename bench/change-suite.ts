/**
 * The incremental refresh on the three changes of issue 18 (a new hour, late messages, deleted
 * human messages; change-cases.ts), this release against a baseline release in the same run:
 * rounds alternate which goes first, each round a change of its own (a new hour each), after a
 * CHECKPOINT (untimed). The new hour's refresh is also broken down by step (statement-timer.ts).
 * Without a baseline only this release is measured.
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_BATCH_CHANGES, DEFAULT_BATCH_EXPERIMENTS } from '../src/config.js';
import type { StatDb } from '../src/db/types.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { DEFAULT_SEED_UNTIL } from '../src/seed/seed-workload.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import type { BenchTarget } from './bench-database.js';
import { deleteHuman, writeLate, writeNewHour } from './change-cases.js';
import { EXCLUDED } from './core-suite.js';
import { formatMs, median, note } from './measure.js';
import { timeSteps } from './statement-timer.js';
import { sessionChats } from './traffic.js';

/** refreshIncremental's shape, as every release since the first exports it. */
export type RefreshFn = (
  db: StatDb,
  options: {
    excludedPlatforms: readonly string[];
    batchChanges: number;
    batchExperiments: number;
    source?: SourceProfile;
  },
) => Promise<{ changes: number }>;

export interface Baseline {
  /** Where it came from (a checkout's directory), for the report. */
  label: string;
  refresh: RefreshFn;
}

export const CHANGE_CASES = ['newHour', 'late', 'deleted'] as const;
export type ChangeCase = (typeof CHANGE_CASES)[number];

export interface CaseFigures {
  currentMs: number[];
  baselineMs: number[];
  changes: number[];
}

export interface ChangeFigures {
  baseline: string | null;
  cases: Record<ChangeCase, CaseFigures>;
  /** Per step of this release's new-hour refreshes, each round's milliseconds. */
  newHourSteps: Record<string, number>[];
}

/** Rounds per case: a refresh of ~100 ms on a shared machine varies by ±20% round to round. */
export const CHANGE_ROUNDS = 5;
/** Hours after the seed's end the new-hour rounds use (the incremental suite uses 1–4). */
const FIRST_HOUR = 10;

/** Loads a baseline release from a built checkout (`npm ci && npm run build` there). */
export async function loadBaseline(dir: string): Promise<Baseline> {
  const module = (await import(`${dir.replace(/\/$/, '')}/dist/src/refresh/refresh-incremental.js`)) as {
    refreshIncremental: RefreshFn;
  };
  return { label: dir, refresh: module.refreshIncremental };
}

export async function runChangeSuite(
  targets: readonly BenchTarget[],
  baseline: Baseline | null,
): Promise<ChangeFigures[]> {
  const label = (t: BenchTarget) => (targets.length > 1 ? ` [${t.source.name}]` : '');
  const out = targets.map(
    (): ChangeFigures => ({
      baseline: baseline?.label ?? null,
      cases: {
        newHour: { currentMs: [], baselineMs: [], changes: [] },
        late: { currentMs: [], baselineMs: [], changes: [] },
        deleted: { currentMs: [], baselineMs: [], changes: [] },
      },
      newHourSteps: [],
    }),
  );
  // A settled database, as autovacuum leaves it a minute after the full build: statistics of the
  // cache's own tables as they are now (the core suite's last reset analyzed them empty), so both
  // releases plan against a filled cache, as every refresh in production does.
  for (const t of targets) await t.db.execute(sql`vacuum analyze`);
  const chats = await Promise.all(targets.map((t) => sessionChats(t)));
  let hour = FIRST_HOUR;
  for (const kase of CHANGE_CASES) {
    for (let round = 1; round <= CHANGE_ROUNDS; round++) {
      for (const [i, target] of targets.entries()) {
        const impls: ['current' | 'baseline', RefreshFn][] = [['current', refreshIncremental as RefreshFn]];
        if (baseline) impls.push(['baseline', baseline.refresh]);
        if (round % 2 === 0) impls.reverse();
        for (const [which, refresh] of impls) {
          const run = () =>
            refresh(target.db, {
              excludedPlatforms: EXCLUDED,
              batchChanges: DEFAULT_BATCH_CHANGES,
              batchExperiments: DEFAULT_BATCH_EXPERIMENTS,
              source: target.source,
            });
          await run(); // an empty queue
          const at = new Date(DEFAULT_SEED_UNTIL.getTime() + hour++ * 3_600_000);
          if (kase === 'newHour') await writeNewHour(target, at, 500 + hour);
          else if (kase === 'late') await writeLate(target, chats[i] as number[], at, 500 + hour);
          else await deleteHuman(target, 500 + hour);
          await target.db.execute(sql`checkpoint`);
          const started = process.hrtime.bigint();
          const { value, steps } =
            which === 'current' && kase === 'newHour'
              ? await timeSteps(run)
              : { value: await run(), steps: null };
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const figures = (out[i] as ChangeFigures).cases[kase];
          (which === 'current' ? figures.currentMs : figures.baselineMs).push(ms);
          if (which === 'current') figures.changes.push(value.changes);
          if (steps) (out[i] as ChangeFigures).newHourSteps.push(steps);
          note(
            `${kase} round ${round}${label(target)} ${which}: ${value.changes} changes in ${formatMs(ms)}`,
          );
        }
      }
    }
  }
  for (const [i, target] of targets.entries())
    for (const kase of CHANGE_CASES) {
      const c = (out[i] as ChangeFigures).cases[kase];
      note(
        `${kase}${label(target)}: ${formatMs(median(c.currentMs))}${c.baselineMs.length ? ` vs baseline ${formatMs(median(c.baselineMs))}` : ''}`,
      );
    }
  return out;
}
