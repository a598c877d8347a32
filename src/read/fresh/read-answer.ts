/**
 * How every read helper runs: its plain statement first (the cached answer, or the live one before
 * the first build, with its freshness). Only a fresh read that finds pending changes touching it
 * (and no more than its bound) runs the statement again with the fresh recount: so a plain read,
 * and a fresh read with nothing pending (the cached answer is then exact), cost one statement
 * exactly as the plain read does; the fresh answer itself always comes from one statement.
 */
import type { SQL } from 'drizzle-orm';
import { readRows } from '../../db/read-rows.js';
import { type Executor, toNumber } from '../../db/types.js';
import type { FreshnessRow } from '../freshness.js';
import type { ResolvedReadOptions } from './read-options.js';

/**
 * Runs `statement(null)` (plain) and, when `read` asks for a fresh answer and pending changes
 * touch it, `statement(bound)`; returns the rows of the statement that answered.
 */
export async function readAnswer<T extends FreshnessRow>(
  db: Executor,
  read: ResolvedReadOptions,
  statement: (freshMaxPending: number | null) => SQL,
): Promise<T[]> {
  const rows = await readRows<T>(db, statement(null));
  const bound = read.freshMaxPending;
  const head = rows[0];
  if (bound === null || !head?.fr_built) return rows;
  const pending = toNumber(head.fr_pending);
  if (pending === 0) {
    // Nothing pending touches it: the cached answer is exact now.
    head.fr_fresh = true;
    return rows;
  }
  if (pending > bound) {
    head.fr_fell_back = true;
    return rows;
  }
  return readRows<T>(db, statement(bound));
}
