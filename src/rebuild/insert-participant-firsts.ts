/** statcache_experiment_participants for a batch of experiments, recomputed from source. */
import { sql } from 'drizzle-orm';
import { REPLACE_PARTICIPANT_FIRST } from '../buckets/upsert-sql.js';
import { bigintArray, textArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';
import {
  countedExperimentJoin,
  experimentRowsOf,
  platformCounted,
  relationSql,
  withVersionRows,
} from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/**
 * Records each participant's first counted session per experiment of `experimentIds` (callers
 * delete the scope's old rows first, in the same transaction), from `source`'s sessions table. A
 * session counts unless its platform is excluded (a NULL platform counts).
 * Parameters: $1 experiment ids (bigint[]), $2 excluded platforms (text[]). Returns rows written.
 */
export function insertParticipantFirsts(
  tx: Executor,
  experimentIds: readonly number[],
  excludedPlatforms: readonly string[],
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const counted = countedExperimentJoin(source, S);
  return execCount(
    tx,
    sql`
    insert into statcache_experiment_participants (experiment_id, participant_id, first_session_at)
    select ${counted.experiment}, ${S.participantId}, min(${S.createdAt})
    from ${S.from} ${counted.join}
    -- Only experiments of their own count participants.
    where ${S.experimentId} = any(${withVersionRows(source, experimentRowsOf(source, bigintArray(experimentIds)))})
      and ${S.participantId} is not null
      and ${platformCounted(S.platform, textArray(excludedPlatforms))}
    group by 1, 2
    ${REPLACE_PARTICIPANT_FIRST}`,
  );
}
