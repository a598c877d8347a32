/** A sorted page of a team's experiments with their totals, in one statement. */

import { type SQL, sql } from 'drizzle-orm';
import { type StatDb, toDate, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { isExperimentRow, relationSql } from '../source/relation-sql.js';
import {
  EXPERIMENT_TOTALS_VALUES,
  experimentTotalsCtes,
  experimentTotalsJoins,
} from './fresh/experiment-totals-sql.js';
import { readAnswer } from './fresh/read-answer.js';
import { type ReadOptions, resolveReadOptions } from './fresh/read-options.js';
import { FRESHNESS_COLUMNS, type Freshness, type FreshnessRow, freshnessOf } from './freshness.js';
import { type PageOptions, resolvePage, type SortOrder } from './page-options.js';
import type { ExperimentTotals, Page } from './totals-types.js';

export const EXPERIMENT_SORT_KEYS = [
  'name',
  'sessions',
  'participants',
  'humanMessages',
  'lastActivity',
] as const;
export type ExperimentSortKey = (typeof EXPERIMENT_SORT_KEYS)[number];

const COLUMNS: Record<ExperimentSortKey, { expression: SQL; defaultOrder: SortOrder }> = {
  name: { expression: sql`t.name collate "C"`, defaultOrder: 'asc' },
  sessions: { expression: sql`t.sessions`, defaultOrder: 'desc' },
  participants: { expression: sql`t.participants`, defaultOrder: 'desc' },
  humanMessages: { expression: sql`t.human_messages`, defaultOrder: 'desc' },
  lastActivity: { expression: sql`t.last_activity_at`, defaultOrder: 'desc' },
};

export interface ListExperimentsOptions extends PageOptions<ExperimentSortKey>, ReadOptions {
  /** Only this team's experiments; every experiment when omitted. */
  teamId?: number;
}

export interface ExperimentRow extends ExperimentTotals {
  experimentId: number;
  teamId: number;
  name: string;
}

interface Row extends FreshnessRow {
  total: unknown;
  team_found: boolean;
  id: unknown;
  team_id: unknown;
  name: string | null;
  sessions: unknown;
  participants: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
}

/**
 * Lists experiments with totals (one statcache_experiment_totals row each, kept equal to the sum
 * of the experiment's buckets), sorted (nulls last, then by id) and paged in SQL, plus the total
 * number of experiments. Only experiments of their own are listed and counted (never a published
 * version kept as an experiment row). Experiments without buckets read as zeros. With `fresh`,
 * the totals, the order and the total are exact at the instant of the read; while the cache was
 * never built, counted live. Exactly one statement, with the source profile's names.
 */
export async function listExperiments(
  db: StatDb,
  options: ListExperimentsOptions = {},
): Promise<Page<ExperimentRow> & { teamFound: boolean; freshness: Freshness }> {
  const page = resolvePage(options, COLUMNS, 'lastActivity', sql`t.id`);
  if (options.teamId !== undefined && (!Number.isSafeInteger(options.teamId) || options.teamId < 1)) {
    throw new InvalidInputError(`teamId must be a positive whole number (got '${String(options.teamId)}')`);
  }
  const read = resolveReadOptions(options);
  const source = read.source;
  const E = relationSql(source, 'experiments', 'e');
  const T = relationSql(source, 'teams', 'tm');
  const teamFilter = options.teamId === undefined ? sql`true` : sql`${E.teamId} = ${options.teamId}`;
  const teamFound =
    options.teamId === undefined
      ? sql`true`
      : sql`exists (select 1 from ${T.from} where ${T.id} = ${options.teamId})`;
  // Parameters: team id (when given), limit, offset. The outer left join returns one row even for
  // an empty page, so the total count always arrives.
  const rows = await readAnswer<Row>(
    db,
    read,
    (bound) => sql`
    with scope as (select ${E.id} as id from ${E.from} where ${teamFilter} and ${isExperimentRow(E)}),
    ${experimentTotalsCtes({ ...read, freshMaxPending: bound }, sql`select id from scope`)},
    totals as (
      select ${E.id} as id, ${E.teamId} as team_id, ${E.name} as name, ${EXPERIMENT_TOTALS_VALUES}
      from ${E.from}
      ${experimentTotalsJoins(E.id)}
      where ${teamFilter} and ${isExperimentRow(E)}
    ),
    page as (
      -- A top-N sort of the experiments, not a full sort and a window over them.
      select t.* from totals t
      order by ${page.orderBy}
      limit ${page.limit} offset ${page.offset}
    )
    select (select count(*) from totals) as total,
           ${teamFound} as team_found, ${FRESHNESS_COLUMNS},
           t.*
    from (select 1) as one
    left join page t on true
    order by ${page.orderBy}`,
  );
  return {
    total: toNumber(rows[0]?.total),
    teamFound: rows[0]?.team_found ?? false,
    freshness: freshnessOf(rows[0]),
    rows: rows
      .filter((r) => r.id !== null)
      .map((r) => ({
        experimentId: toNumber(r.id),
        teamId: toNumber(r.team_id),
        name: r.name ?? '',
        sessions: toNumber(r.sessions),
        participants: toNumber(r.participants),
        humanMessages: toNumber(r.human_messages),
        lastActivityAt: toDate(r.last_activity_at),
      })),
  };
}
