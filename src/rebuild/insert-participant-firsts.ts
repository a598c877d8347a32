/** statcache_experiment_participants for a batch of experiments, recomputed from source. */
import { sql } from 'drizzle-orm';
import { REPLACE_PARTICIPANT_FIRST } from '../buckets/upsert-sql.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';

/**
 * Records each participant's first counted session per experiment of `experimentIds` (callers
 * delete the scope's old rows first, in the same transaction).
 * Parameters: $1 experiment ids (bigint[]), $2 excluded platforms (text[]). Returns rows written.
 */
export function insertParticipantFirsts(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
): Promise<number> {
  return execCount(
    tx,
    sql`
    insert into statcache_experiment_participants (experiment_id, participant_id, first_session_at)
    select s.experiment_id, s.participant_id, min(s.created_at)
    from experiment_sessions s
    where s.experiment_id = any(${bigintArray(experimentIds)})
      and s.participant_id is not null
      and s.platform <> all(${textArray(excludedPlatforms)})
    group by s.experiment_id, s.participant_id
    ${REPLACE_PARTICIPANT_FIRST}`,
  );
}
