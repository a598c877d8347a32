/**
 * The CTEs a series read ends with: `points`, one row per bucket of the ids asked for overlapping
 * [from, to) (id, bucket_size, bucket_start, bucket_end, counts, last_activity_at), from the source
 * the mode says: the stored buckets (plain), the stored ones with the buckets pending changes name
 * recounted (fresh; a recounted bucket left with nothing to count is gone, as after a refresh), or
 * counted live (never built; and a fresh read's experiments asked to be rebuilt whole).
 */
import { type SQL, sql } from 'drizzle-orm';
import { LONGEST_BUCKET } from '../../buckets/bucket-sizes.js';
import { bigintArray, textArray } from '../../db/params.js';
import { type Executor, toNumber } from '../../db/types.js';
import { isExperimentRow, relationSql } from '../../source/relation-sql.js';
import {
  FRESHNESS_COLUMNS,
  type FreshMap,
  type FreshnessRow,
  freshnessOf,
  readStateCtes,
  withFreshness,
} from '../freshness.js';
import { type BucketRow, groupInRequestOrder } from '../series-points.js';
import { experimentOverlayCtes } from './experiment-overlay-sql.js';
import { liveExperimentBucketsSql } from './live-sql.js';
import { readAnswer } from './read-answer.js';
import type { ResolvedReadOptions } from './read-options.js';
import { sessionSeriesCtes } from './session-overlay-sql.js';

/** A series answer: points per id with the answer's freshness, and the ids that name no row. */
export type SeriesMap<P> = FreshMap<P[]> & {
  /** Requested ids that are not experiments (sessions) of the source, ascending; their series is []. */
  unknownIds: number[];
};

export interface SeriesWindow {
  ids: readonly number[];
  from: string;
  to: string;
}

const overlaps = (from: string, to: string) =>
  sql`bucket_start < ${to}::timestamptz and bucket_end > ${from}::timestamptz`;

/**
 * CTEs (after `with`) scope, read_state, pk, gate, the overlay's and `points` for experiments.
 * Served by the unique index (experiment_id, bucket_size, bucket_start): the id array and the three
 * sizes give one index range per (id, size), bounded on bucket_start below by `from` minus the
 * longest bucket (31 days; redundant with bucket_end > from, but usable by the index) and above by
 * `to`. Ids that are not experiments of their own (published versions) have no points.
 */
export function experimentPointsCtes(read: ResolvedReadOptions, w: SeriesWindow): SQL {
  const { source } = read;
  const E = relationSql(source, 'experiments', 'e');
  const excluded = textArray(read.excludedPlatforms);
  const ids = bigintArray(w.ids);
  const overlay =
    read.freshMaxPending === null
      ? sql`
    x_whole as (select null::bigint as experiment_id where false),
    x_targets as (select null::bigint as experiment_id, null::text as bucket_size, null::timestamptz as bucket_start where false),
    x_recounted as (
      select null::bigint as experiment_id, null::text as bucket_size, null::timestamptz as bucket_start,
             null::timestamptz as bucket_end, 0::bigint as sessions, 0::bigint as participants, 0::bigint as messages,
             null::timestamptz as last_at where false
    )`
      : experimentOverlayCtes(source, sql`select id from scope`, excluded);
  return sql`
    scope as (
      select distinct u.id from unnest(${ids}) as u(id)
      where u.id not in (select ${E.id} from ${E.from} where ${E.id} = any(${ids}) and not (${isExperimentRow(E)}))
    ),
    unknown_ids as (
      select distinct u.id from unnest(${ids}) as u(id)
      where not exists (select 1 from ${E.from} where ${E.id} = u.id and ${isExperimentRow(E)})
    ),
    ${readStateCtes(source, sql`c.experiment_id in (select id from scope)`, read.freshMaxPending)},
    ${overlay},
    x_live_buckets as materialized (
      select * from (${liveExperimentBucketsSql(
        source,
        sql`array(select id from scope where not (select built from read_state) union select experiment_id from x_whole)`,
        excluded,
      )}) l
      where ${overlaps(w.from, w.to)}
    ),
    points as (
      select b.experiment_id as id, b.bucket_size, b.bucket_start, b.bucket_end, b.session_count as sessions,
             b.new_participant_count as participants, b.human_message_count as human_messages, b.last_activity_at
      from experiment_statistics_buckets b
      where b.experiment_id = any(${ids})
        and b.bucket_size in ('hour', 'day', 'month')
        and b.bucket_start > ${w.from}::timestamptz - ${LONGEST_BUCKET}
        and b.bucket_start < ${w.to}::timestamptz
        and b.bucket_end > ${w.from}::timestamptz
        and b.experiment_id in (select id from scope)
        and (select built from read_state)
        and b.experiment_id not in (select experiment_id from x_whole)
        and not exists (select 1 from x_targets t where t.experiment_id = b.experiment_id
                          and t.bucket_size = b.bucket_size and t.bucket_start = b.bucket_start)
      union all
      select experiment_id, bucket_size, bucket_start, bucket_end, sessions, participants, messages, last_at
      from x_recounted
      where (sessions > 0 or participants > 0 or messages > 0) and ${overlaps(w.from, w.to)}
        and experiment_id in (select id from scope)
      union all
      select experiment_id, bucket_size, bucket_start, bucket_end, sessions, participants, messages, last_at
      from x_live_buckets
    )`;
}

/** The same for sessions (`scope`, read_state, pk, gate, the session overlay's and `points`). */
export function sessionPointsCtes(read: ResolvedReadOptions, w: SeriesWindow): SQL {
  const ids = bigintArray(w.ids);
  const S = relationSql(read.source, 'sessions', 's');
  return sql`
    scope as (select distinct unnest(${ids}) as id),
    unknown_ids as (
      select u.id from scope u where not exists (select 1 from ${S.from} where ${S.id} = u.id)
    ),
    ${readStateCtes(read.source, sql`c.resolved_session in (select id from scope)`, read.freshMaxPending)},
    ${sessionSeriesCtes(read.source, sql`select id from scope`)},
    points as (
      select b.session_id as id, b.bucket_size, b.bucket_start, b.bucket_end,
             b.human_message_count as human_messages, b.last_activity_at
      from session_statistics_buckets b
      where b.session_id = any(${ids})
        and b.bucket_size in ('hour', 'day', 'month')
        and b.bucket_start > ${w.from}::timestamptz - ${LONGEST_BUCKET}
        and b.bucket_start < ${w.to}::timestamptz
        and b.bucket_end > ${w.from}::timestamptz
        and (select built from read_state)
        and not exists (select 1 from s_targets t where t.session_id = b.session_id
                          and t.bucket_size = b.bucket_size and t.bucket_start = b.bucket_start)
      union all
      select session_id, bucket_size, bucket_start, bucket_end, messages, last_at
      from s_recounted
      where messages > 0 and ${overlaps(w.from, w.to)}
    )`;
}

/**
 * Runs a series read: `ctes` (experimentPointsCtes or sessionPointsCtes, for a bound) and then
 * every point with the answer's freshness; returns the points grouped by id in request order.
 */
export async function readSeries<P>(
  db: Executor,
  read: ResolvedReadOptions,
  window: SeriesWindow,
  ctes: (read: ResolvedReadOptions, window: SeriesWindow) => SQL,
  toPoint: (row: BucketRow) => P,
): Promise<SeriesMap<P>> {
  const rows = await readAnswer<BucketRow & FreshnessRow & { unknown_ids: unknown[] | null }>(
    db,
    read,
    (bound) => sql`
    with ${ctes({ ...read, freshMaxPending: bound }, window)}
    select p.*, ${FRESHNESS_COLUMNS},
           array(select id from unknown_ids order by id) as unknown_ids
    from (select 1) as one
    left join points p on true
    order by p.id, p.bucket_start, p.bucket_end`,
  );
  const points = rows.filter((r) => r.id !== null);
  const map = withFreshness(groupInRequestOrder(window.ids, points, toPoint), freshnessOf(rows[0]));
  return Object.assign(map, { unknownIds: (rows[0]?.unknown_ids ?? []).map(toNumber) });
}
