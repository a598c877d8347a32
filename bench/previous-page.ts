/**
 * The experiments page as statcache read it before reads carried their freshness: the same
 * statement minus the pending-change count. Only the baseline of bench/fresh-suite.ts ("the plain
 * read stays as fast as before"); the product's statement is listExperiments.
 */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb } from '../src/db/types.js';

/** The page of `limit` experiments by human messages (desc, then id), with the total. */
export async function previousExperimentsPage(db: StatDb, limit: number): Promise<unknown[]> {
  return queryRows(
    db,
    sql`
    with totals as (
      select e.id, e.team_id, e.name,
             coalesce(x.session_count, 0) as sessions, coalesce(x.participant_count, 0) as participants,
             coalesce(x.human_message_count, 0) as human_messages, x.last_activity_at
      from experiments e
      left join statcache_experiment_totals x on x.experiment_id = e.id
    ),
    page as (
      select t.* from totals t order by t.human_messages desc nulls last, t.id asc limit ${limit}
    )
    select (select count(*) from totals) as total, true as team_found, t.*
    from (select 1) as one left join page t on true
    order by t.human_messages desc nulls last, t.id asc`,
  );
}
