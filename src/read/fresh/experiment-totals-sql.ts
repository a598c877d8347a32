/**
 * What a read of experiment totals joins, whatever its mode: the stored totals (`x`), the fresh
 * overlay of the experiments pending changes touch (`o`, see experimentOverlayCtes) and the live
 * totals while the cache was never built (`l`). One set of CTEs, one join, one select list, shared
 * by getExperimentTotals and listExperiments.
 */
import { type SQL, sql } from 'drizzle-orm';
import { textArray } from '../../db/params.js';
import { readStateCtes } from '../freshness.js';
import { experimentOverlayCtes } from './experiment-overlay-sql.js';
import { liveExperimentTotalsSql } from './live-sql.js';
import type { ResolvedReadOptions } from './read-options.js';

/**
 * The CTEs (after `with`, without a trailing comma) for a read of the experiments `scope` (a
 * SELECT of experiment ids): read_state, pk, gate, x_overlay (empty unless fresh) and x_live
 * (empty once the cache was built).
 */
export function experimentTotalsCtes(options: ResolvedReadOptions, scope: SQL): SQL {
  const { source, freshMaxPending } = options;
  const excluded = textArray(options.excludedPlatforms);
  const overlay =
    freshMaxPending === null
      ? sql`x_overlay as (
      select null::bigint as experiment_id, 0::bigint as sessions, 0::bigint as participants,
             0::bigint as messages, null::timestamptz as last_at where false
    )`
      : experimentOverlayCtes(source, scope, excluded);
  return sql`
    ${readStateCtes(source, sql`c.experiment_id in (${scope})`, freshMaxPending)},
    ${overlay},
    x_live as materialized (
      select * from (${liveExperimentTotalsSql(source, sql`array(${scope})`, excluded)}) l
      where not (select built from read_state)
    )`;
}

/** The joins of the three sources to experiment id `id`. */
export function experimentTotalsJoins(id: SQL): SQL {
  return sql`
      left join statcache_experiment_totals x on x.experiment_id = ${id}
      left join x_overlay o on o.experiment_id = ${id}
      left join x_live l on l.experiment_id = ${id}`;
}

const pick = (overlay: string, live: string, stored: string, zero: string) =>
  sql.raw(`case when not (select built from read_state) then coalesce(l.${live}, ${zero})
                when o.experiment_id is not null then o.${overlay}
                else coalesce(x.${stored}, ${zero}) end`);

/** sessions, participants, human_messages, last_activity_at: from the source the mode says. */
export const EXPERIMENT_TOTALS_VALUES = sql`
      ${pick('sessions', 'sessions', 'session_count', '0')} as sessions,
      ${pick('participants', 'participants', 'participant_count', '0')} as participants,
      ${pick('messages', 'messages', 'human_message_count', '0')} as human_messages,
      ${pick('last_at', 'last_at', 'last_activity_at', 'null')} as last_activity_at`;
