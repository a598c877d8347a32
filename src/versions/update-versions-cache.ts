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
 * the messages), or the session ids a subquery yields, recounted from their messages, and with
 * `addedTags`, a subquery of (session_id, message_id, tag_id): tags new links put on a message of
 * the session's chat (the incremental refresh passes its claimed `chat_versions` keys of each kind).
 */
export type VersionsScope =
  | { experimentIds: readonly number[]; versionsByChat?: PrecomputedVersions }
  | { sessionIdsFrom: SQL; addedTags?: SQL };

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
  // The `added` CTE, when the scope has added tags: sessions with a link no longer standing join
  // the recounted ones.
  const added =
    'sessionIdsFrom' in scope && scope.addedTags
      ? addedTagsChecked(source, scope.addedTags, scope.sessionIdsFrom)
      : null;
  const where: SQL =
    'experimentIds' in scope
      ? sql`${S.experimentId} = any(${withVersionRows(source, bigintArray(scope.experimentIds))})`
      : added
        ? sql`${S.id} in (${scope.sessionIdsFrom} union select session_id from added where not stands)`
        : sql`${S.id} in (${scope.sessionIdsFrom})`;
  return execCount(
    tx,
    sql`
    with ${added ? sql`${added},` : sql``}
    scope as (
      select ${S.id} as id, ${S.chatId} as chat_id, s.xmin as row_xmin, ${S.versionsCache} as stored
      from ${S.from} where ${where}
    ),
    ${'versionsByChat' in scope && scope.versionsByChat ? precomputed(scope.versionsByChat, source) : fromMessages(source)},
    ${added ? grownVersions(source) : sql`written as (select session_id, versions from versions)`},
    stale as (
      select ${S.id} as id, v.versions
      from ${S.from} join written v on v.session_id = ${S.id}
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

/**
 * `added`: each added tag of a session not recounted anyway, with its stored versions and whether
 * the link that added it still stands (its message still in the session's chat, still linked to the
 * tag): one probe of the message and one of its links per (session, tag), not a read of the chat.
 * A session with a link gone (or moved) since is recounted from its messages instead.
 */
function addedTagsChecked(source: SourceProfile, addedTags: SQL, recounted: SQL): SQL {
  const S = relationSql(source, 'sessions', 'ss');
  const M = relationSql(source, 'messages', 'am');
  const L = relationSql(source, 'tagLinks', 'al');
  return sql`
    added as materialized (
      select a.session_id, a.tag_id, ${S.versionsCache} as stored,
             exists (select 1 from ${M.from} join ${L.from} on ${linksMessage(source, L, M.id)}
                     where ${M.id} = a.message_id and ${M.chatId} = ${S.chatId} and ${L.tagId} = a.tag_id) as stands
      from (select distinct session_id, message_id, tag_id from (${addedTags}) t
            where session_id not in (${recounted})) a
      join ${S.from} on ${S.id} = a.session_id
    )`;
}

/**
 * `written`: the recounted sessions' versions, and for each session whose added links all stand,
 * its stored names with the added tags' (version tags only: a tag no longer one adds nothing).
 */
function grownVersions(source: SourceProfile): SQL {
  return sql`
    kept as (
      select session_id, tag_id, stored from added
      where session_id not in (select session_id from added where not stands)
    ),
    grown as (
      select a.session_id, n.name::text as name from kept a cross join lateral unnest(a.stored) n(name)
      union
      select a.session_id, vt.name from kept a join ${versionNamesSql(source)} vt on vt.id = a.tag_id
    ),
    written as (
      select session_id, versions from versions
      union all
      select g.session_id, ${versionsAgg('g')} as versions
      from (select g0.session_id, g0.name, k.sort_key from grown g0 join ${keyedNamesSql(sql`grown`)} k on k.name = g0.name) g
      group by g.session_id
    )`;
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
