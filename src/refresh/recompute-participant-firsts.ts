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
 * every pair whose first session moved, appeared or vanished. A pair whose keys all name a session
 * that is new on it (the trigger's new sides) and still counts there takes the earlier of its stored
 * first instant and theirs: one probe per session instead of a read of the participant's sessions.
 * Returns the pairs that moved. Parameters: $1 whole experiments (bigint[]), $2 excluded platforms (text[]).
 */
export async function recomputeParticipantFirsts(
  tx: Executor,
  wholeExperiments: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const N = relationSql(source, 'sessions', 'ns');
  const E = relationSql(source, 'experiments', 'e');
  const excluded = textArray(excludedPlatforms);
  const [row] = await queryRows<{ moved: unknown }>(
    tx,
    sql`
    with pairs as (
      select k.experiment_id, k.participant_id,
             -- Whether every key of the pair names a new session that counts in it (a key without
             -- one, or a session gone or moved since, asks for the recount); and their first instant.
             bool_and(coalesce(n.counts, false)) as added_only, min(n.created_at) as first_added
      from ${CLAIMED} k
      left join lateral (
        select ${N.createdAt} as created_at,
               ${countedExperiment(source, N.experimentId)} = k.experiment_id and ${N.participantId} = k.participant_id
                 and ${platformCounted(N.platform, excluded)} as counts
        from ${N.from} where ${N.id} = k.session_id offset 0
      ) n on true
      where k.kind = 'participant' and k.experiment_id <> all(${bigintArray(wholeExperiments)})
      group by k.experiment_id, k.participant_id
    ),
    fresh as (
      select p.experiment_id, p.participant_id, o.ctid as old_row, o.first_session_at as old_at,
             -- None under a row that is not an experiment (a version of a version counts in none).
             case when not exists (select 1 from ${E.from} where ${E.id} = p.experiment_id and ${isExperimentRow(E)}) then null
                  when p.added_only then least(o.first_session_at, p.first_added)
                  -- Only the participant's own sessions are read (index on participant_id); filtering
                  -- the experiment in the aggregate keeps the planner from also scanning the
                  -- experiment's index, which grows with the experiment's history.
                  else (select min(${S.createdAt}) filter (where ${countedExperiment(source, S.experimentId)} = p.experiment_id
                                      and ${platformCounted(S.platform, excluded)})
                        from ${S.from} where ${S.participantId} = p.participant_id) end as new_at
      from pairs p
      left join lateral (
        select f.ctid, f.first_session_at from statcache_experiment_participants f
        where f.experiment_id = p.experiment_id and f.participant_id = p.participant_id
      ) o on true
    ),
    moved as (
      select experiment_id, participant_id, old_row, old_at, new_at from fresh
      where old_at is distinct from new_at
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
