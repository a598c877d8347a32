/**
 * A checksum of every row of every table in the database's public schema (statcache's and the
 * chat platform's alike), for tests that assert bad input wrote nothing.
 */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb } from '../../src/db/types.js';

/** Table name → md5 of its rows in a stable order, and its row count. */
export async function tableChecksums(db: StatDb): Promise<Record<string, string>> {
  const tables = await queryRows<{ name: string }>(
    db,
    sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
  );
  if (tables.length === 0) throw new Error('no tables in schema public');
  // One statement for every table: a union of one aggregate per table.
  const parts = tables.map(
    ({ name }) =>
      sql`select ${name}::text as name,
                 count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' order by t::text)), '') as sum
          from ${sql.identifier(name)} t`,
  );
  const rows = await queryRows<{ name: string; sum: string }>(db, sql.join(parts, sql` union all `));
  return Object.fromEntries(rows.map((r) => [r.name, r.sum]));
}
