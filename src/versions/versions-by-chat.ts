/**
 * The versions of every chat, computed once for a whole full rebuild: one hash join of the
 * platform's messages, tag links and tags (which PostgreSQL can run with parallel workers), into a
 * temp table each batch's versions step reads by chat. Without it every batch looked up its
 * sessions' message ids again: on a message table whose chat index does not hold the id (Open Chat
 * Studio's), that is a scan of the whole table per batch.
 *
 * A temp table lives on one connection: the caller runs the rebuild on one (onOneConnection). It is
 * computed after the rebuild's snapshot, so a change committed later is still queued and applied by
 * the next incremental refresh (see discard-covered-changes.ts). But a refresh running beside the
 * rebuild may apply such a change first, writing the session's newer versions: a batch must not
 * then write the older precomputed ones over them. So a batch reads the precomputed versions only
 * for sessions whose row no transaction has written since the snapshot (and, on a cache built
 * before, whose stored versions they equal), and recounts the others from their messages
 * (update-versions-cache.ts).
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/types.js';
import { linksMessage, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { EXPERIMENT_VERSION_CATEGORY } from './update-versions-cache.js';

/** The temp table: (chat_id, versions text[] in natural order), only chats that have versions. */
export const VERSIONS_BY_CHAT = sql.raw('pg_temp.statcache_versions_by_chat');

/** Precomputed versions for a batch: the relation, and the snapshot taken before it was computed. */
export interface PrecomputedVersions {
  relation: SQL;
  /** pg_current_snapshot() as text, taken before the relation was computed. */
  snapshot: string;
  /**
   * Also recount the sessions whose stored versions differ from the precomputed ones. True when the
   * cache was built before this rebuild: incremental refreshes may then run beside it, and one that
   * applied two opposite changes (a tag linked, then unlinked) finds nothing to write, leaving no
   * trace a batch could see but that difference. False on a first build (no refresh runs beside
   * it, and every tagged session differs from the empty default: recounting them all would undo
   * the precomputation).
   */
  recountDiffering: boolean;
}

/**
 * Whether the row version with `xmin` was written by a transaction visible in `snapshot` (committed
 * before it). xmin is a 32-bit xid; pg_visible_in_snapshot takes a 64-bit xid8, so the epoch is
 * taken from the current one (every live xmin is within 2^31 of it), one epoch back when its low
 * bits are ahead of now's. Frozen and special xids (below 3) are old.
 */
export function writtenBefore(xmin: SQL, snapshot: string): SQL {
  const now = sql`pg_snapshot_xmax(pg_current_snapshot())::text::bigint`;
  const x = sql`(${xmin})::text::bigint`;
  return sql`(${x} < 3 or pg_visible_in_snapshot(
      ((${now} >> 32 << 32) + ${x} - case when ${x} > (${now} & 4294967295) then 4294967296 else 0 end)::text::xid8,
      ${snapshot}::pg_snapshot))`;
}

export async function precomputeVersionsByChat(conn: Executor, source: SourceProfile): Promise<void> {
  const M = relationSql(source, 'messages', 'm');
  const L = relationSql(source, 'tagLinks', 'mt');
  const T = relationSql(source, 'tags', 't');
  await conn.execute(sql`drop table if exists ${VERSIONS_BY_CHAT}`);
  await conn.execute(sql`
    create temp table statcache_versions_by_chat as
    select chat_id,
           array_agg(name order by statcache_natural_sort_key(name) collate "C", name collate "C") as versions
    from (
      select distinct ${M.chatId} as chat_id, ${T.name}::text as name
      from ${M.from}
      join ${L.from} on ${linksMessage(source, L, M.id)}
      join ${T.from} on ${T.id} = ${L.tagId}
      where ${T.category} = ${EXPERIMENT_VERSION_CATEGORY}
    ) n
    group by chat_id`);
  await conn.execute(sql`analyze ${VERSIONS_BY_CHAT}`);
}

export async function dropVersionsByChat(conn: Executor): Promise<void> {
  await conn.execute(sql`drop table if exists ${VERSIONS_BY_CHAT}`);
}
