/**
 * Live recount of experiment totals, written independently of the buckets (distinct participants
 * instead of first sessions, one count over all time instead of per bucket) so that a drift between
 * statcache_experiment_totals and its buckets, or a mistake in either, is caught.
 */
import { sql } from 'drizzle-orm';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import {
  countedExperiment,
  experimentRowsOf,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import type { ExperimentTotalsMismatch } from './mismatch.js';
import { experimentValues } from './recount-experiment-buckets.js';

interface Row {
  experiment_id: unknown;
  x_present: boolean;
  x_sessions: unknown;
  x_participants: unknown;
  x_messages: unknown;
  x_last: unknown;
  t_present: boolean;
  t_sessions: unknown;
  t_participants: unknown;
  t_messages: unknown;
  t_last: unknown;
}

/**
 * Compares the stored totals of `experimentIds` with a recount from source; an experiment with
 * nothing to count must have no totals row. Sessions with a NULL platform count. `source` names the
 * sessions and messages tables. Parameters: $1 experiment ids (bigint[]), $2 excluded platforms (text[]).
 */
export async function recountExperimentTotals(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<ExperimentTotalsMismatch[]> {
  const ids = bigintArray(experimentIds);
  const S = relationSql(source, 'sessions', 's');
  const M = relationSql(source, 'messages', 'm');
  const rows = await queryRows<Row>(
    tx,
    sql`
    with live_sessions as materialized (
      select ${countedExperiment(source, S.experimentId)} as experiment_id, ${S.participantId} as participant_id, ${S.chatId} as chat_id
      from ${S.from}
      where ${S.experimentId} = any(${withVersionRows(source, experimentRowsOf(source, ids))}) and ${platformCounted(S.platform, textArray(excludedPlatforms))}
    ),
    by_session as (
      select experiment_id, count(*) as sessions, count(distinct participant_id) as participants
      from live_sessions group by 1
    ),
    by_message as (
      select ls.experiment_id, count(*) as messages, max(${M.createdAt}) as last_at
      from live_sessions ls join ${M.from} on ${M.chatId} = ls.chat_id and ${M.type} = 'human'
      group by 1
    ),
    expected as (
      select bs.experiment_id, bs.sessions, bs.participants, coalesce(bm.messages, 0) as messages, bm.last_at
      from by_session bs left join by_message bm on bm.experiment_id = bs.experiment_id
    ),
    stored as (
      select * from statcache_experiment_totals where experiment_id = any(${ids})
    )
    select coalesce(x.experiment_id, t.experiment_id) as experiment_id,
           x.experiment_id is not null as x_present, x.sessions as x_sessions, x.participants as x_participants,
           x.messages as x_messages, x.last_at as x_last,
           t.experiment_id is not null as t_present, t.session_count as t_sessions,
           t.participant_count as t_participants, t.human_message_count as t_messages, t.last_activity_at as t_last
    from expected x
    full join stored t on t.experiment_id = x.experiment_id
    where x.experiment_id is null or t.experiment_id is null
       or x.sessions <> t.session_count or x.participants <> t.participant_count
       or x.messages <> t.human_message_count or x.last_at is distinct from t.last_activity_at
    order by 1`,
  );
  return rows.map((r) => ({
    kind: 'experiment_totals',
    experimentId: toNumber(r.experiment_id),
    expected: r.x_present ? experimentValues(r.x_sessions, r.x_participants, r.x_messages, r.x_last) : null,
    actual: r.t_present ? experimentValues(r.t_sessions, r.t_participants, r.t_messages, r.t_last) : null,
  }));
}
