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
import { countedExperiment, relationSql } from '../source/relation-sql.js';
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

/** What each row of an answer read: one experiment each, or one session each. */
export type FreshnessEachScope = { experimentIds: readonly number[] } | { sessionIds: readonly number[] };

/**
 * The freshness of each row of an answer, by experiment (its buckets, totals and sessions) or by
 * session (its buckets and versions; an `experiment` key of its experiment or a TRUNCATE touches
 * it too). One statement; ids without pending changes map to 0.
 */
export async function readFreshnessEach(
  db: Pick<StatDb, 'execute'>,
  scope: FreshnessEachScope,
  options: { source?: SourceProfile } = {},
): Promise<Map<number, Freshness>> {
  const source = options.source ?? STATCACHE_PROFILE;
  const S = relationSql(source, 'sessions', 's');
  const rows = await queryRows<{ id: unknown; refreshed_at: unknown; pending: unknown; oldest: unknown }>(
    db,
    'experimentIds' in scope
      ? sql`
        with c as materialized (${pendingKeysSql(source)}),
        ids as (select distinct unnest(${bigintArray(scope.experimentIds)}) as id)
        select i.id, count(c.kind) as pending, min(c.captured_at) as oldest,
               (select refreshed_at from statcache_refresh_state where id = 1) as refreshed_at
        from ids i left join c on c.kind = 'all' or c.experiment_id = i.id
        group by i.id`
      : sql`
        with c as materialized (${pendingKeysSql(source)}),
        ids as (
          select u.id, ${countedExperiment(source, S.experimentId)} as experiment_id
          from (select distinct unnest(${bigintArray(scope.sessionIds)}) as id) u
          left join ${S.from} on ${S.id} = u.id
        )
        select i.id, count(c.kind) as pending, min(c.captured_at) as oldest,
               (select refreshed_at from statcache_refresh_state where id = 1) as refreshed_at
        from ids i left join c
          on c.kind = 'all' or c.resolved_session = i.id or (c.kind = 'experiment' and c.experiment_id = i.experiment_id)
        group by i.id`,
  );
  return new Map(
    rows.map((r) => [
      toNumber(r.id),
      {
        mode: 'cached' as const,
        refreshedAt: toDate(r.refreshed_at),
        pendingChanges: toNumber(r.pending),
        oldestPendingAt: toDate(r.oldest),
      },
    ]),
  );
}
