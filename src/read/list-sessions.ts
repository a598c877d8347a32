/** A sorted page of one experiment's sessions with their totals, in one statement. */

import { type SQL, sql } from 'drizzle-orm';
import { type StatDb, toDate, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { isExperimentRow, relationSql, withVersionRows } from '../source/relation-sql.js';
import { readAnswer } from './fresh/read-answer.js';
import { type ReadOptions, resolveReadOptions } from './fresh/read-options.js';
import { sessionTotalsCtes, sessionTotalsJoins, sessionTotalsValues } from './fresh/session-overlay-sql.js';
import {
  FRESHNESS_COLUMNS,
  type Freshness,
  type FreshnessRow,
  freshnessOf,
  readStateCtes,
} from './freshness.js';
import { type PageOptions, resolvePage, type SortOrder } from './page-options.js';
import type { Page, SessionTotals } from './totals-types.js';

export const SESSION_SORT_KEYS = ['id', 'createdAt', 'humanMessages', 'lastActivity'] as const;
export type SessionSortKey = (typeof SESSION_SORT_KEYS)[number];

const COLUMNS: Record<SessionSortKey, { expression: SQL; defaultOrder: SortOrder }> = {
  id: { expression: sql`t.id`, defaultOrder: 'asc' },
  createdAt: { expression: sql`t.created_at`, defaultOrder: 'desc' },
  humanMessages: { expression: sql`t.human_messages`, defaultOrder: 'desc' },
  lastActivity: { expression: sql`t.last_activity_at`, defaultOrder: 'desc' },
};

export interface ListSessionsOptions extends PageOptions<SessionSortKey>, ReadOptions {
  experimentId: number;
}

export interface SessionRow extends SessionTotals {
  sessionId: number;
  participantId: number | null;
  participantIdentifier: string | null;
  /** NULL when the session has none (a nullable platform in the source profile). */
  platform: string | null;
  createdAt: Date;
}

interface Row extends FreshnessRow {
  total: unknown;
  experiment_found: boolean;
  id: unknown;
  participant_id: unknown;
  participant_identifier: string | null;
  platform: string | null;
  created_at: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
  experiment_versions: string[] | null;
}

/**
 * Lists an experiment's sessions (every platform) with totals and cached versions, sorted (nulls
 * last, then by id) and paged in SQL, plus the total number of sessions. With `fresh`, exact at the
 * instant of the read (order included); while the cache was never built, counted live. Exactly one
 * statement, with the source profile's names.
 */
export async function listSessions(
  db: StatDb,
  options: ListSessionsOptions,
): Promise<Page<SessionRow> & { experimentFound: boolean; freshness: Freshness }> {
  const page = resolvePage(options, COLUMNS, 'lastActivity', sql`t.id`);
  if (!Number.isSafeInteger(options.experimentId) || options.experimentId < 1) {
    throw new InvalidInputError(
      `experimentId must be a positive whole number (got '${String(options.experimentId)}')`,
    );
  }
  const read = resolveReadOptions(options);
  const source = read.source;
  const S = relationSql(source, 'sessions', 's');
  const P = relationSql(source, 'participants', 'p');
  const E = relationSql(source, 'experiments', 'e');
  // Parameters: experiment id, limit, offset.
  const rows = await readAnswer<Row>(
    db,
    read,
    (bound) => sql`
    with scope as (
      select ${S.id} as id from ${S.from}
      where ${S.experimentId} = any(${withVersionRows(source, sql`array[${options.experimentId}]::bigint[]`)})
    ),
    ${readStateCtes(
      source,
      sql`(c.resolved_session in (select id from scope) or (c.kind = 'experiment' and c.experiment_id = ${options.experimentId}))`,
      bound,
    )},
    ${sessionTotalsCtes(source, sql`select id from scope`)},
    totals as (
      select ${S.id} as id, ${S.participantId} as participant_id, ${P.identifier} as participant_identifier,
             ${S.platform} as platform, ${S.createdAt} as created_at,
             ${sessionTotalsValues(sql`b.human_messages`, sql`b.last_activity_at`, S.versionsCache)}
      from ${S.from}
      left join ${P.from} on ${P.id} = ${S.participantId}
      left join lateral (
        select sum(x.human_message_count)::bigint as human_messages, max(x.last_activity_at) as last_activity_at
        from session_statistics_buckets x
        where x.session_id = ${S.id}
      ) b on true
      ${sessionTotalsJoins(S.id)}
      where ${S.experimentId} = any(${withVersionRows(source, sql`array[${options.experimentId}]::bigint[]`)})
    ),
    page as (
      select t.*, row_number() over (order by ${page.orderBy}) as position
      from totals t
      order by position
      limit ${page.limit} offset ${page.offset}
    )
    select (select count(*) from totals) as total,
           exists (select 1 from ${E.from} where ${E.id} = ${options.experimentId} and ${isExperimentRow(E)})
             as experiment_found, ${FRESHNESS_COLUMNS},
           page.*
    from (select 1) as one
    left join page on true
    order by page.position`,
  );
  return {
    total: toNumber(rows[0]?.total),
    experimentFound: rows[0]?.experiment_found ?? false,
    freshness: freshnessOf(rows[0]),
    rows: rows
      .filter((r) => r.id !== null)
      .map((r) => ({
        sessionId: toNumber(r.id),
        participantId: r.participant_id === null ? null : toNumber(r.participant_id),
        participantIdentifier: r.participant_identifier,
        platform: r.platform,
        createdAt: toDate(r.created_at) as Date,
        humanMessages: toNumber(r.human_messages),
        lastActivityAt: toDate(r.last_activity_at),
        experimentVersions: r.experiment_versions ?? [],
      })),
  };
}
