/** Totals for a batch of experiments (the sums of their buckets of every size, kept per experiment) in one statement. */
import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { queryRows, type StatDb, toDate, toNumber } from '../db/types.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { ExperimentTotals } from './totals-types.js';
import { assertIds } from './validate-ids.js';

interface Row {
  id: unknown;
  sessions: unknown;
  participants: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
}

/**
 * Returns a Map from each requested experiment id to its totals; ids without buckets, unknown ids
 * and ids of rows that are not experiments of their own (published versions, when `options.source`
 * keeps them as experiment rows) read as zeros. One SQL statement whatever the number of ids.
 *
 * @param options.source - where the platform keeps its tables. Accepted like every read helper's;
 * the totals need none of the platform's tables. @defaultValue the statcache demo schema
 */
export async function getExperimentTotals(
  db: StatDb,
  ids: readonly number[],
  _options: { source?: SourceProfile } = {},
): Promise<Map<number, ExperimentTotals>> {
  assertIds(ids, 'experiment');
  const totals = new Map<number, ExperimentTotals>();
  if (ids.length === 0) return totals;
  // Parameters: $1 experiment ids (bigint[]). Totals rows exist only for experiment rows: a refresh
  // files a session on a published-version row under its working experiment, and rebuilds an
  // experiment whose row becomes (or stops being) a version, removing its totals; so a version row's
  // id, like an unknown id, finds none and reads as zeros, with no lookup of the experiments table.
  const rows = await queryRows<Row>(
    db,
    sql`
    select i.id,
           coalesce(t.session_count, 0) as sessions,
           coalesce(t.participant_count, 0) as participants,
           coalesce(t.human_message_count, 0) as human_messages,
           t.last_activity_at
    from (select distinct unnest(${bigintArray(ids)}) as id) as i
    left join statcache_experiment_totals t on t.experiment_id = i.id`,
  );
  const byId = new Map<number, ExperimentTotals>();
  for (const row of rows) {
    byId.set(toNumber(row.id), {
      sessions: toNumber(row.sessions),
      participants: toNumber(row.participants),
      humanMessages: toNumber(row.human_messages),
      lastActivityAt: toDate(row.last_activity_at),
    });
  }
  // In request order, so callers can print or serialize the map as asked.
  for (const id of ids) totals.set(id, byId.get(id) as ExperimentTotals);
  return totals;
}
