/** Totals for a batch of experiments (the sums of their buckets of every size, kept per experiment) in one statement. */

import { sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type StatDb, toDate, toNumber } from '../db/types.js';
import {
  EXPERIMENT_TOTALS_VALUES,
  experimentTotalsCtes,
  experimentTotalsJoins,
} from './fresh/experiment-totals-sql.js';
import { readAnswer } from './fresh/read-answer.js';
import { type ReadOptions, resolveReadOptions } from './fresh/read-options.js';
import {
  FRESHNESS_COLUMNS,
  type FreshMap,
  type FreshnessRow,
  freshnessOf,
  withFreshness,
} from './freshness.js';
import type { ExperimentTotals } from './totals-types.js';
import { assertIds } from './validate-ids.js';

interface Row extends FreshnessRow {
  id: unknown;
  sessions: unknown;
  participants: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
}

/**
 * Returns a Map from each requested experiment id (in request order) to its totals, with the
 * answer's `freshness`; ids without buckets, unknown ids and ids of rows that are not experiments
 * of their own (published versions, when `options.source` keeps them as experiment rows) read as
 * zeros. With `fresh`, exact at the instant of the read; while the cache was never built, counted
 * live. One SQL statement whatever the number of ids.
 *
 * Totals rows exist only for experiment rows: a refresh files a session on a published-version row
 * under its working experiment, and rebuilds an experiment whose row becomes (or stops being) a
 * version, removing its totals; so a version row's id, like an unknown id, finds none.
 */
export async function getExperimentTotals(
  db: StatDb,
  ids: readonly number[],
  options: ReadOptions = {},
): Promise<FreshMap<ExperimentTotals>> {
  assertIds(ids, 'experiment');
  const read = resolveReadOptions(options);
  // The outer left join returns one row even for no ids, so the freshness always arrives.
  const rows = await readAnswer<Row>(
    db,
    read,
    (bound) => sql`
    with scope as (select distinct unnest(${bigintArray(ids)}) as id),
    ${experimentTotalsCtes({ ...read, freshMaxPending: bound }, sql`select id from scope`)}
    select i.id, ${EXPERIMENT_TOTALS_VALUES}, ${FRESHNESS_COLUMNS}
    from (select 1) as one
    left join scope i on true
    ${experimentTotalsJoins(sql`i.id`)}`,
  );
  const byId = new Map<number, ExperimentTotals>();
  for (const row of rows) {
    if (row.id === null) continue;
    byId.set(toNumber(row.id), {
      sessions: toNumber(row.sessions),
      participants: toNumber(row.participants),
      humanMessages: toNumber(row.human_messages),
      lastActivityAt: toDate(row.last_activity_at),
    });
  }
  const totals = new Map<number, ExperimentTotals>();
  for (const id of ids) totals.set(id, byId.get(id) as ExperimentTotals);
  return withFreshness(totals, freshnessOf(rows[0]));
}
