/** Totals for a batch of sessions, summed from their buckets, with the versions cache, in one statement. */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { queryRows, type StatDb, toDate, toNumber } from '../db/types.js';
import { STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { SessionTotals } from './totals-types.js';
import { assertIds } from './validate-ids.js';

interface Row {
  id: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
  experiment_versions: string[] | null;
}

/**
 * Returns a Map from each requested session id to its totals; ids without buckets read as zeros
 * and unknown ids also have no versions. One SQL statement whatever the number of ids.
 *
 * @param options.source - where the platform keeps its tables. @defaultValue the statcache demo schema
 */
export async function getSessionTotals(
  db: StatDb,
  ids: readonly number[],
  options: { source?: SourceProfile } = {},
): Promise<Map<number, SessionTotals>> {
  assertIds(ids, 'session');
  const totals = new Map<number, SessionTotals>();
  if (ids.length === 0) return totals;
  const S = relationSql(options.source ?? STATCACHE_PROFILE, 'sessions', 's');
  // Parameters: $1 session ids (bigint[]).
  const rows = await queryRows<Row>(
    db,
    sql`
    select i.id,
           coalesce(sum(b.human_message_count), 0)::bigint as human_messages,
           max(b.last_activity_at) as last_activity_at,
           coalesce(${S.versionsCache}, '{}'::text[]) as experiment_versions
    from (select distinct unnest(${bigintArray(ids)}) as id) as i
    left join ${S.from} on ${S.id} = i.id
    left join session_statistics_buckets b on b.session_id = i.id
    group by i.id, ${S.versionsCache}`,
  );
  const byId = new Map<number, SessionTotals>();
  for (const row of rows) {
    byId.set(toNumber(row.id), {
      humanMessages: toNumber(row.human_messages),
      lastActivityAt: toDate(row.last_activity_at),
      experimentVersions: row.experiment_versions ?? [],
    });
  }
  // In request order, so callers can print or serialize the map as asked.
  for (const id of ids) totals.set(id, byId.get(id) as SessionTotals);
  return totals;
}
