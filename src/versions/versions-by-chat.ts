/**
 * The versions of every chat, computed once for a whole full rebuild: one hash join of the
 * platform's messages, tag links and version tags, into statcache_rebuild_versions, which each
 * batch's versions step reads by chat on whichever connection the batch runs (rebuild-lanes.ts: the
 * other connections write buckets meanwhile). Without it every batch looked up its sessions'
 * message ids again: on a message table whose chat index does not hold the id (Open Chat Studio's),
 * that is a scan of the whole table per batch.
 *
 * One rebuild uses the table at a time: the caller holds lockRebuildVersions() on its connection
 * for the whole run (a second unscoped rebuild waits for the first) and empties the table at the
 * end (clearVersionsByChat). It is computed after the rebuild's snapshot, so a change committed
 * later is still queued and applied by the next incremental refresh (see
 * discard-covered-changes.ts). But a refresh running beside the rebuild may apply such a change
 * first, writing the session's newer versions: a batch must not then write the older precomputed
 * ones over them. So a batch reads the precomputed versions only for sessions whose row no
 * transaction has written since the snapshot (and, on a cache built before, whose stored versions
 * they equal), and recounts the others from their messages (update-versions-cache.ts).
 */
import { type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../db/types.js';
import { linksMessage, relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';
import { versionsAgg, versionTagsSql } from './version-tags-sql.js';

/** (chat_id, versions text[] in natural order), only chats that have versions. */
export const VERSIONS_BY_CHAT = sql.raw('statcache_rebuild_versions');

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

/** Fills statcache_rebuild_versions from the messages (emptied first), in one statement. */
export async function precomputeVersionsByChat(conn: Executor, source: SourceProfile): Promise<void> {
  const M = relationSql(source, 'messages', 'm');
  const L = relationSql(source, 'tagLinks', 'mt');
  await conn.execute(sql`truncate ${VERSIONS_BY_CHAT}`);
  await conn.execute(sql`
    insert into ${VERSIONS_BY_CHAT} (chat_id, versions)
    select chat_id, ${versionsAgg('n')}
    from (
      select distinct ${M.chatId} as chat_id, vt.name, vt.sort_key
      from ${M.from}
      join ${L.from} on ${linksMessage(source, L, M.id)}
      join ${versionTagsSql(source)} vt on vt.id = ${L.tagId}
    ) n
    group by chat_id`);
}

/** Empties the table once the rebuild no longer needs it. */
export async function clearVersionsByChat(conn: Executor): Promise<void> {
  await conn.execute(sql`truncate ${VERSIONS_BY_CHAT}`);
}
