/**
 * How current an answer is, computed in the answer's own statement: when the cache was last
 * brought up to date (statcache_refresh_state), how many changes not applied yet touch what was
 * read, when the oldest of them was captured, and how the answer was computed. Every change
 * captured before `refreshedAt` was applied then, except the pending ones counted here; so a cached
 * answer with no pending changes is exact as of the read for what it covers.
 */
import { type SQL, sql } from 'drizzle-orm';
import { toDate, toNumber } from '../db/types.js';
import { FULL_BUILD_RECORDED } from '../runs/refresh-runs.js';
import { pendingKeysSql } from '../source/pending-keys-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

export interface Freshness {
  /**
   * How the answer was computed: `fresh`, exact at the instant of the read (the buckets pending
   * changes name were recounted from source); `cached`, from the buckets as of `refreshedAt`;
   * `live`, counted from source because the cache was never built.
   */
  mode: 'fresh' | 'cached' | 'live';
  /** When the cache was last brought up to date; null before the first refresh. */
  refreshedAt: Date | null;
  /** Changes captured but not applied yet that touch what was read (a TRUNCATE touches everything). */
  pendingChanges: number;
  /** When the oldest of those was captured; null when there is none. */
  oldestPendingAt: Date | null;
  /**
   * True when a fresh answer was asked for but more changes than the bound (`freshMaxPending`)
   * touch it: the answer is the cached one instead.
   */
  fellBack: boolean;
}

/**
 * The CTEs every read statement starts with: `read_state` (built: whether the cache was ever
 * fully built; refreshed_at), `pk` (the pending change rows that touch the read, resolved as
 * pendingKeysSql does, c.* being one of them in `touches`) and `gate` (n, oldest, has_all, and
 * fresh: whether this statement recounts them, which needs a built cache and at most `bound` of
 * them; `bound` null for a plain read). Everything a fresh recount does is behind `gate.fresh`,
 * and everything a live answer does behind `not read_state.built`: one-time filters, so a plain
 * read runs neither.
 */
export function readStateCtes(source: SourceProfile, touches: SQL, bound: number | null): SQL {
  return sql`
    read_state as materialized (
      select coalesce((select true from statcache_refresh_state where id = 1), ${FULL_BUILD_RECORDED}) as built,
             (select refreshed_at from statcache_refresh_state where id = 1) as refreshed_at
    ),
    pk as materialized (
      select c.* from (${pendingKeysSql(source)}) c where c.kind = 'all' or ${touches}
    ),
    gate as materialized (
      select count(*) as n, min(captured_at) as oldest, coalesce(bool_or(kind = 'all'), false) as has_all,
             ${bound === null ? sql`false` : sql`(select built from read_state) and count(*) <= ${bound}`} as fresh,
             ${bound === null ? sql`false` : sql`(select built from read_state) and count(*) > ${bound}`} as fell_back
      from pk
    )`;
}

/** The freshness columns a read statement selects (from `read_state` and `gate`). */
export const FRESHNESS_COLUMNS = sql`
    (select built from read_state) as fr_built, (select refreshed_at from read_state) as fr_refreshed_at,
    (select n from gate) as fr_pending, (select oldest from gate) as fr_oldest,
    (select fresh from gate) as fr_fresh, (select fell_back from gate) as fr_fell_back`;

export interface FreshnessRow {
  fr_built: boolean;
  fr_refreshed_at: unknown;
  fr_pending: unknown;
  fr_oldest: unknown;
  fr_fresh: boolean;
  fr_fell_back: boolean;
}

export function freshnessOf(row: FreshnessRow | undefined): Freshness {
  return {
    mode: !row?.fr_built ? 'live' : row.fr_fresh ? 'fresh' : 'cached',
    refreshedAt: toDate(row?.fr_refreshed_at),
    pendingChanges: toNumber(row?.fr_pending),
    oldestPendingAt: toDate(row?.fr_oldest),
    fellBack: row?.fr_fell_back ?? false,
  };
}

/** A map answer (totals or series by id) with the freshness of the whole answer. */
export type FreshMap<V> = Map<number, V> & { freshness: Freshness };

export function withFreshness<V>(map: Map<number, V>, freshness: Freshness): FreshMap<V> {
  return Object.assign(map, { freshness });
}
