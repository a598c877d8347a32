/** Recomputes the first counted session of (experiment, participant) pairs; reports moved hours. */
import { sql } from 'drizzle-orm';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, queryRows, toDate, toNumber } from '../db/types.js';

/**
 * Rewrites statcache_experiment_participants for the given pairs from source and returns, for each
 * pair whose first session moved, appeared or vanished, the old and new instants: the experiment
 * buckets holding them must be recounted.
 * Parameters: $1 experiment ids, $2 participant ids (parallel bigint[]), $3 excluded platforms.
 */
export async function recomputeParticipantFirsts(
  tx: Executor,
  experimentIds: readonly number[],
  participantIds: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<{ experimentId: number; at: string }[]> {
  if (experimentIds.length === 0) return [];
  const rows = await queryRows<{ experiment_id: unknown; at: unknown }>(
    tx,
    sql`
    with pairs as (
      select distinct p.experiment_id, p.participant_id
      from unnest(${bigintArray(experimentIds)}, ${bigintArray(participantIds)}) as p(experiment_id, participant_id)
    ),
    fresh as (
      select p.experiment_id, p.participant_id,
             (select min(s.created_at) from experiment_sessions s
              where s.participant_id = p.participant_id and s.experiment_id = p.experiment_id
                and s.platform <> all(${textArray(excludedPlatforms)})) as first_at
      from pairs p
    ),
    old as (
      select f.experiment_id, f.participant_id, f.first_session_at as first_at
      from statcache_experiment_participants f
      join pairs p on p.experiment_id = f.experiment_id and p.participant_id = f.participant_id
    ),
    moved as (
      select fr.experiment_id, fr.participant_id, o.first_at as old_at, fr.first_at as new_at
      from fresh fr left join old o on o.experiment_id = fr.experiment_id and o.participant_id = fr.participant_id
      where o.first_at is distinct from fr.first_at
    ),
    removed as (
      delete from statcache_experiment_participants f using moved m
      where f.experiment_id = m.experiment_id and f.participant_id = m.participant_id and m.new_at is null
    ),
    written as (
      insert into statcache_experiment_participants (experiment_id, participant_id, first_session_at)
      select experiment_id, participant_id, new_at from moved where new_at is not null
      on conflict (experiment_id, participant_id) do update set first_session_at = excluded.first_session_at
    )
    select experiment_id, old_at as at from moved where old_at is not null
    union
    select experiment_id, new_at from moved where new_at is not null`,
  );
  return rows.map((r) => ({
    experimentId: toNumber(r.experiment_id),
    at: (toDate(r.at) as Date).toISOString(),
  }));
}
