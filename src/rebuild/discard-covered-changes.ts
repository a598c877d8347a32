/**
 * After an unscoped full rebuild, the changes that committed before it started are covered by it:
 * drop exactly those (by transaction visibility, not by time), leaving later ones for the
 * incremental refresh. Rows another refresh has claimed are skipped.
 */
import { sql } from 'drizzle-orm';
import { type Executor, execCount, queryRows } from '../db/types.js';

/** The current snapshot, to pass to discardCoveredChanges later. */
export async function currentSnapshot(db: Executor): Promise<string> {
  const [row] = await queryRows<{ snapshot: string }>(
    db,
    sql`select pg_current_snapshot()::text as snapshot`,
  );
  return row?.snapshot as string;
}

/** Deletes change rows whose writing transaction had committed when `snapshot` was taken. */
export function discardCoveredChanges(db: Executor, snapshot: string): Promise<number> {
  return execCount(
    db,
    sql`delete from statcache_changes where id in (
          select id from statcache_changes
          where pg_visible_in_snapshot(xid::xid8, ${snapshot}::pg_snapshot)
          for update skip locked)`,
  );
}
