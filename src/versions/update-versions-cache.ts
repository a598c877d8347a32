/** experiment_sessions.cached_experiment_versions for a set of sessions, in one statement. */
import { type SQL, sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';

/** The tag category whose names are experiment versions. */
export const EXPERIMENT_VERSION_CATEGORY = 'experiment_version';

/**
 * Which sessions to update: every session of some experiments (a rebuild), or the session ids a
 * subquery yields (the incremental refresh passes its claimed `chat_versions` keys).
 */
export type VersionsScope = { experimentIds: readonly number[] } | { sessionIdsFrom: SQL };

/**
 * Sets each session's cached versions to the distinct names of `experiment_version` tags on any
 * message of its chat, in natural order (statcache_natural_sort_key, then byte order). Rows whose
 * value is already right are not touched, so a refresh does not churn the platform's table; rows
 * are updated in id order so concurrent refreshes lock them in the same order.
 *
 * Parameters: $1 experiment ids (bigint[]), or those of the caller's subquery. Returns the number of sessions changed.
 */
export function updateVersionsCache(tx: Executor, scope: VersionsScope): Promise<number> {
  const where: SQL =
    'experimentIds' in scope
      ? sql`s.experiment_id = any(${bigintArray(scope.experimentIds)})`
      : sql`s.id in (${scope.sessionIdsFrom})`;
  return execCount(
    tx,
    sql`
    with scope as (
      select s.id, s.chat_id from experiment_sessions s where ${where}
    ),
    names as (
      select distinct sc.id as session_id, t.name
      from scope sc
      join chat_messages m on m.chat_id = sc.chat_id
      join chat_message_tags mt on mt.message_id = m.id
      join tags t on t.id = mt.tag_id
      where t.category = ${EXPERIMENT_VERSION_CATEGORY}
    ),
    versions as (
      select sc.id as session_id,
             coalesce(array_agg(n.name order by statcache_natural_sort_key(n.name) collate "C", n.name collate "C")
                        filter (where n.name is not null), '{}'::text[]) as versions
      from scope sc
      left join names n on n.session_id = sc.id
      group by sc.id
    ),
    stale as (
      select s.id, v.versions
      from experiment_sessions s join versions v on v.session_id = s.id
      where s.cached_experiment_versions is distinct from v.versions
      order by s.id
      for update of s
    )
    update experiment_sessions s
    set cached_experiment_versions = stale.versions
    from stale
    where s.id = stale.id`,
  );
}
