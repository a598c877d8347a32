/** A chat's experiment versions, read from its messages' tags. */
import { type SQL, sql } from 'drizzle-orm';
import { linksMessage, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { keyedNamesSql, versionNamesSql, versionsAgg } from './version-tags-sql.js';

/**
 * A scalar subquery: the distinct names of `experiment_version` tags on any message of chat
 * `chatId`, in natural order (statcache_natural_sort_key, then byte order), as text[]; NULL when
 * there is none. Index ranges over that chat's messages and their links only. Used where one chat
 * at a time is read (a live read, verify); the refresh writes many at once (update-versions-cache.ts).
 */
export function chatVersionsSql(source: SourceProfile, chatId: SQL): SQL {
  const M = relationSql(source, 'messages', 'vm');
  const L = relationSql(source, 'tagLinks', 'vl');
  return sql`(
      select ${versionsAgg('d')}
      from ${keyedNamesSql(sql`(
        select vt.name
        from ${M.from}
        join ${L.from} on ${linksMessage(source, L, M.id)}
        join ${versionNamesSql(source)} vt on vt.id = ${L.tagId}
        where ${M.chatId} = ${chatId}
      ) names`)} d)`;
}
