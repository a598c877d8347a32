/**
 * How current an answer is: when the cache was last brought up to date (statcache_refresh_state),
 * how many changes not applied yet touch what was read, and when the oldest of them was captured.
 * Every change captured before `refreshedAt` was applied then, except the pending ones counted
 * here; so an answer with no pending changes is exact as of the read for what it covers. One
 * statement, its cost bounded by the queue of pending changes, never by history.
 */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { queryRows, type StatDb, toDate, toNumber } from '../db/types.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { pendingKeysSql } from '../source/pending-keys-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

export interface Freshness {
  /** How the answer was computed: `cached`, from the buckets as of `refreshedAt`. */
  mode: 'cached';
  /** When the cache was last brought up to date; null before the first refresh. */
  refreshedAt: Date | null;
  /** Changes captured but not applied yet that touch what was read (a TRUNCATE touches everything). */
  pendingChanges: number;
  /** When the oldest of those was captured; null when there is none. */
  oldestPendingAt: Date | null;
}

/** What an answer read: some experiments (their buckets, totals and sessions). */
export interface FreshnessScope {
  experimentIds: readonly number[];
}

export async function readFreshness(
  db: Pick<StatDb, 'execute'>,
  scope: FreshnessScope,
  options: { source?: SourceProfile } = {},
): Promise<Freshness> {
  const source = options.source ?? STATCACHE_PROFILE;
  const [row] = await queryRows<{ refreshed_at: unknown; pending: unknown; oldest: unknown }>(
    db,
    sql`
    with c as (${pendingKeysSql(source)})
    select (select refreshed_at from statcache_refresh_state where id = 1) as refreshed_at,
           count(*) as pending, min(c.captured_at) as oldest
    from c
    where c.kind = 'all' or c.experiment_id = any(${bigintArray(scope.experimentIds)})`,
  );
  return {
    mode: 'cached',
    refreshedAt: toDate(row?.refreshed_at),
    pendingChanges: toNumber(row?.pending),
    oldestPendingAt: toDate(row?.oldest),
  };
}
