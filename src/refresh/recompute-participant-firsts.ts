/** Recomputes the first counted session of the batch's (experiment, participant) pairs. */
import { sql } from 'drizzle-orm';
import { REPLACE_PARTICIPANT_FIRST } from '../buckets/upsert-sql.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { countedExperiment, isExperimentRow, platformCounted, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { CLAIMED } from './claim-changes.js';

/**
 * Rewrites statcache_experiment_participants for the claimed pairs (except whole experiments)
 * from source, and adds to the batch an experiment key for the old and the new first instant of
 * every pair whose first session moved, appeared or vanished. Returns the pairs that moved.
 * Parameters: $1 whole experiments (bigint[]), $2 excluded platforms (text[]).
 */
export async function recomputeParticipantFirsts(
  tx: Executor,
  wholeExperiments: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const E = relationSql(source, 'experiments', 'e');
  const [row] = await queryRows<{ moved: unknown }>(
    tx,
    sql`
    with pairs as (
      select distinct experiment_id, participant_id from ${CLAIMED}
      where kind = 'participant' and experiment_id <> all(${bigintArray(wholeExperiments)})
    ),
    fresh as (
      select p.experiment_id, p.participant_id,
             -- Only the participant's own sessions are read (index on participant_id); filtering
             -- the experiment in the aggregate keeps the planner from also scanning the
             -- experiment's index, which grows with the experiment's history.
             -- None under a row that is not an experiment (a version of a version counts in none).
             case when exists (select 1 from ${E.from} where ${E.id} = p.experiment_id and ${isExperimentRow(E)}) then
             (select min(${S.createdAt}) filter (where ${countedExperiment(source, S.experimentId)} = p.experiment_id
                                 and ${platformCounted(S.platform, textArray(excludedPlatforms))})
              from ${S.from} where ${S.participantId} = p.participant_id) end as first_at
      from pairs p
    ),
    moved as (
      select fr.experiment_id, fr.participant_id, o.ctid as old_row, o.first_session_at as old_at, fr.first_at as new_at
      from fresh fr
      left join lateral (
        select f.ctid, f.first_session_at from statcache_experiment_participants f
        where f.experiment_id = fr.experiment_id and f.participant_id = fr.participant_id
      ) o on true
      where o.first_session_at is distinct from fr.first_at
    ),
    removed as (
      -- By the rows' ctids (found by primary key above): never a join over the whole table.
      delete from statcache_experiment_participants f
      where f.ctid = any(array(select old_row from moved where new_at is null and old_row is not null))
    ),
    written as (
      insert into statcache_experiment_participants (experiment_id, participant_id, first_session_at)
      select experiment_id, participant_id, new_at from moved where new_at is not null
      ${REPLACE_PARTICIPANT_FIRST}
    ),
    keyed as (
      insert into ${CLAIMED} (kind, experiment_id, at)
      select 'experiment_hour', experiment_id, old_at from moved where old_at is not null
      union all
      select 'experiment_hour', experiment_id, new_at from moved where new_at is not null
    )
    select count(*) as moved from moved`,
  );
  return toNumber(row?.moved);
}
