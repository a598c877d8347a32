/** Totals for a batch of sessions, summed from their buckets, with the versions cache, in one statement. */

import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type StatDb, toDate, toNumber } from '../db/types.js';
import { relationSql } from '../source/relation-sql.js';
import { readAnswer } from './fresh/read-answer.js';
import { type ReadOptions, resolveReadOptions } from './fresh/read-options.js';
import { sessionTotalsCtes, sessionTotalsJoins, sessionTotalsValues } from './fresh/session-overlay-sql.js';
import {
  FRESHNESS_COLUMNS,
  type FreshMap,
  type FreshnessRow,
  freshnessOf,
  readStateCtes,
  withFreshness,
} from './freshness.js';
import type { SessionTotals } from './totals-types.js';
import { assertIds } from './validate-ids.js';

interface Row extends FreshnessRow {
  id: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
  experiment_versions: string[] | null;
}

/**
 * Returns a Map from each requested session id (in request order) to its totals, with the answer's
 * `freshness`; ids without buckets read as zeros and unknown ids also have no versions. With
 * `fresh`, exact at the instant of the read; while the cache was never built, counted live. One
 * SQL statement whatever the number of ids.
 */
export async function getSessionTotals(
  db: StatDb,
  ids: readonly number[],
  options: ReadOptions = {},
): Promise<FreshMap<SessionTotals>> {
  assertIds(ids, 'session');
  const read = resolveReadOptions(options);
  const S = relationSql(read.source, 'sessions', 's');
  // Parameters: session ids (bigint[]). A change touches a session if it resolves to it, or if it
  // asks for its experiment's rebuild.
  const rows = await readAnswer<Row>(
    db,
    read,
    (bound) => sql`
    with scope as (select distinct unnest(${bigintArray(ids)}) as id),
    ${readStateCtes(
      read.source,
      sql`(c.resolved_session in (select id from scope)
           or (c.kind = 'experiment' and c.experiment_id in (select ${S.experimentId} from ${S.from} where ${S.id} in (select id from scope))))`,
      bound,
    )},
    ${sessionTotalsCtes(read.source, sql`select id from scope`)},
    stored as (
      select i.id, sum(b.human_message_count)::bigint as messages, max(b.last_activity_at) as last_at,
             ${S.versionsCache} as versions
      from scope i
      left join ${S.from} on ${S.id} = i.id
      left join session_statistics_buckets b on b.session_id = i.id
      group by i.id, ${S.versionsCache}
    )
    select i.id, ${sessionTotalsValues(sql`i.messages`, sql`i.last_at`, sql`i.versions`)}, ${FRESHNESS_COLUMNS}
    from (select 1) as one
    left join stored i on true
    ${sessionTotalsJoins(sql`i.id`)}`,
  );
  const byId = new Map<number, SessionTotals>();
  for (const row of rows) {
    if (row.id === null) continue;
    byId.set(toNumber(row.id), {
      humanMessages: toNumber(row.human_messages),
      lastActivityAt: toDate(row.last_activity_at),
      experimentVersions: row.experiment_versions ?? [],
    });
  }
  const totals = new Map<number, SessionTotals>();
  for (const id of ids) totals.set(id, byId.get(id) as SessionTotals);
  return withFreshness(totals, freshnessOf(rows[0]));
}
