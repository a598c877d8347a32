/** The sessions' versions cache (the profile's sessions.versionsCache column), in one statement. */
import { type SQL, sql } from 'drizzle-orm';
import { bigintArray } from '../db/params.js';
import { type Executor, execCount } from '../db/types.js';
import { quoted } from '../source/quoted.js';
import { linksMessage, relationSql, withVersionRows } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { keyedNamesSql, versionNamesSql, versionsAgg } from './version-tags-sql.js';
import { type PrecomputedVersions, writtenBefore } from './versions-by-chat.js';

/**
 * Which sessions to update: every session of some experiments (a rebuild; with `versionsByChat`,
 * reading each chat's versions from that precomputed relation of (chat_id, versions) instead of
 * the messages), or the session ids a subquery yields (the incremental refresh passes its claimed
 * `chat_versions` keys).
 */
export type VersionsScope =
  | { experimentIds: readonly number[]; versionsByChat?: PrecomputedVersions }
  | { sessionIdsFrom: SQL };

/**
 * Sets each session's cached versions to the distinct names of `experiment_version` tags on any
 * message of its chat, in natural order (statcache_natural_sort_key, then byte order). Rows whose
 * value is already right are not touched, so a refresh does not churn the platform's table; rows
 * are updated in id order so concurrent refreshes lock them in the same order. `source` names the
 * sessions, messages, tag and tag-link tables (a generic link table counts only its links to
 * messages); names are read as text, since a profile's may be varchar.
 *
 * Parameters: $1 experiment ids (bigint[]), or those of the caller's subquery. Returns the number of sessions changed.
 */
export function updateVersionsCache(
  tx: Executor,
  scope: VersionsScope,
  source: SourceProfile,
): Promise<number> {
  const S = relationSql(source, 'sessions', 's');
  const where: SQL =
    'experimentIds' in scope
      ? sql`${S.experimentId} = any(${withVersionRows(source, bigintArray(scope.experimentIds))})`
      : sql`${S.id} in (${scope.sessionIdsFrom})`;
  return execCount(
    tx,
    sql`
    with scope as (
      select ${S.id} as id, ${S.chatId} as chat_id, s.xmin as row_xmin, ${S.versionsCache} as stored
      from ${S.from} where ${where}
    ),
    ${'versionsByChat' in scope && scope.versionsByChat ? precomputed(scope.versionsByChat, source) : fromMessages(source)},
    stale as (
      select ${S.id} as id, v.versions
      from ${S.from} join versions v on v.session_id = ${S.id}
      where ${S.versionsCache} is distinct from v.versions
      order by ${S.id}
      for update of s
    )
    update ${S.from}
    set ${quoted(source.sessions.versionsCache)} = stale.versions
    from stale
    where ${S.id} = stale.id`,
  );
}

/** The `versions` CTE from the messages of the scope's chats (their tag links and tags). */
function fromMessages(source: SourceProfile): SQL {
  return sql`
    ${namesOf(source, sql`scope`)},
    versions as (
      select sc.id as session_id,
             coalesce(${versionsAgg('n')} filter (where n.name is not null), '{}'::text[]) as versions
      from scope sc
      left join names n on n.session_id = sc.id
      group by sc.id
    )`;
}

/**
 * `names`: the distinct version names (with their sort keys) of the sessions in `sessions` (id,
 * chat_id), from their messages; keyed once per distinct name the batch found.
 */
function namesOf(source: SourceProfile, sessions: SQL): SQL {
  const M = relationSql(source, 'messages', 'm');
  const L = relationSql(source, 'tagLinks', 'mt');
  return sql`
    tagged as (
      select distinct sc.id as session_id, vt.name
      from ${sessions} sc
      join ${M.from} on ${M.chatId} = sc.chat_id
      join ${L.from} on ${linksMessage(source, L, M.id)}
      join ${versionNamesSql(source)} vt on vt.id = ${L.tagId}
    ),
    names as (
      select t.session_id, t.name, k.sort_key
      from tagged t join ${keyedNamesSql(sql`tagged`)} k on k.name = t.name
    )`;
}

/**
 * The `versions` CTE from a precomputed (chat_id, versions) relation, for the sessions whose row
 * nothing has written since its snapshot (and, with `recountDiffering`, whose stored versions equal
 * the precomputed ones); the others (a refresh beside the rebuild may have written newer versions
 * there) recounted from their messages (versions-by-chat.ts says why).
 */
function precomputed(p: PrecomputedVersions, source: SourceProfile): SQL {
  return sql`
    touched as (
      select sc.id, sc.chat_id from scope sc
      ${p.recountDiffering ? sql`left join ${p.relation} pd on pd.chat_id = sc.chat_id` : sql``}
      where not ${writtenBefore(sql`sc.row_xmin`, p.snapshot)}
      ${p.recountDiffering ? sql`or sc.stored is distinct from coalesce(pd.versions, '{}'::text[])` : sql``}
    ),
    ${namesOf(source, sql`touched`)},
    -- Grouped once and joined: a correlated subquery here was re-planned as a scan of every
    -- touched session per session (quadratic: 75 s for a batch of 23,000 sessions).
    recounted as (
      select n.session_id, ${versionsAgg('n')} as versions
      from names n group by n.session_id
    ),
    versions as (
      select sc.id as session_id,
             case when t.id is null then coalesce(p.versions, '{}'::text[])
                  else coalesce(r.versions, '{}'::text[]) end as versions
      from scope sc
      left join touched t on t.id = sc.id
      left join recounted r on r.session_id = sc.id
      left join ${p.relation} p on p.chat_id = sc.chat_id
    )`;
}
