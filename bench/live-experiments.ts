/**
 * The experiments page counted live from the chat tables, without statcache: what a dashboard costs
 * without the cache. Only for bench/live-server.ts, the load comparison. One statement.
 */
import { sql } from 'drizzle-orm';
import { textArray } from '../src/db/params.js';
import { queryRows, type StatDb, toDate, toNumber } from '../src/db/types.js';
import type { ExperimentRow } from '../src/read/list-experiments.js';

export async function listExperimentsLive(
  db: StatDb,
  options: { teamId?: number; limit: number; offset: number; excludedPlatforms: readonly string[] },
): Promise<{ rows: ExperimentRow[]; total: number }> {
  const excluded = textArray(options.excludedPlatforms);
  const team = options.teamId === undefined ? sql`true` : sql`e.team_id = ${options.teamId}`;
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    with totals as (
      select e.id, e.team_id, e.name,
             (select count(*) from experiment_sessions s where s.experiment_id = e.id and s.platform <> all(${excluded})) as sessions,
             (select count(distinct s.participant_id) from experiment_sessions s
               where s.experiment_id = e.id and s.platform <> all(${excluded})) as participants,
             h.human_messages, h.last_activity_at
      from experiments e
      cross join lateral (
        select count(*) as human_messages, max(m.created_at) as last_activity_at
        from experiment_sessions s join chat_messages m on m.chat_id = s.chat_id
        where s.experiment_id = e.id and s.platform <> all(${excluded}) and m.message_type = 'human') h
      where ${team}
    )
    select (select count(*) from experiments e where ${team}) as total, t.*
    from (select 1) one
    left join (select * from totals order by human_messages desc, id limit ${options.limit} offset ${options.offset}) t on true
    order by t.human_messages desc, t.id`,
  );
  return {
    total: toNumber(rows[0]?.total),
    rows: rows
      .filter((r) => r.id !== null)
      .map((r) => ({
        experimentId: toNumber(r.id),
        teamId: toNumber(r.team_id),
        name: String(r.name ?? ''),
        sessions: toNumber(r.sessions),
        participants: toNumber(r.participants),
        humanMessages: toNumber(r.human_messages),
        lastActivityAt: toDate(r.last_activity_at),
      })),
  };
}
