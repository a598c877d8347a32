/** Splits work into bounded batches of experiment ids, for refresh and verify alike. */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { STATCACHE_PROFILE } from './builtin-profiles.js';
import { isFilingRow, relationSql } from './relation-sql.js';
import type { SourceProfile } from './source-profile.js';

/**
 * Yields batches of at most `size` experiment ids: the given ids (deduplicated, ascending), or every
 * experiment of `source` (its own rows, not published versions; plus any version row with versions
 * of its own, whose sessions are filed under it) in id order by keyset pages (one query per batch,
 * never one per experiment).
 */
export async function* experimentBatches(
  db: Executor,
  size: number,
  experimentIds?: readonly number[],
  source: SourceProfile = STATCACHE_PROFILE,
): AsyncGenerator<number[]> {
  const E = relationSql(source, 'experiments', 'e');
  if (experimentIds !== undefined) {
    const ids = [...new Set(experimentIds)].sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i += size) yield ids.slice(i, i + size);
    return;
  }
  let after = 0;
  for (;;) {
    const rows = await queryRows<{ id: unknown }>(
      db,
      sql`select ${E.id} as id from ${E.from} where ${E.id} > ${after} and ${isFilingRow(source, E)}
          order by ${E.id} limit ${size}`,
    );
    if (rows.length === 0) return;
    const ids = rows.map((r) => toNumber(r.id));
    yield ids;
    after = ids[ids.length - 1] as number;
  }
}

/** Number of experiments a run over `experimentIds` (or all) will visit, for progress output. */
export async function countExperiments(
  db: Executor,
  experimentIds?: readonly number[],
  source: SourceProfile = STATCACHE_PROFILE,
): Promise<number> {
  if (experimentIds !== undefined) return new Set(experimentIds).size;
  const E = relationSql(source, 'experiments', 'e');
  const [row] = await queryRows<{ n: unknown }>(
    db,
    sql`select count(*) as n from ${E.from} where ${isFilingRow(source, E)}`,
  );
  return toNumber(row?.n);
}
