/**
 * The privileges each of statcache's roles needs, as GRANT statements for this database and
 * profile (`statcache grants`): the worker reads the platform's tables, writes statcache's own and
 * the versions column; the dashboard only reads. The installer (`migrate`, `uninstall`) is the
 * owner of the platform's tables (ALTER TABLE and CREATE INDEX need ownership) with CREATE on the
 * schema; the capture functions run with its rights (SECURITY DEFINER), so the platform's own
 * writers need nothing new.
 */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db/types.js';
import { RELATION_NAMES, type SourceProfile } from '../source/source-profile.js';
import { ident } from './capture-names.js';
import { OWN_RELATION } from './install-plan.js';

export interface GrantRoles {
  worker?: string;
  dashboard?: string;
}

/** statcache's own tables and sequences in this database (after migrate). */
async function ownObjects(db: Executor): Promise<{ tables: string[]; sequences: string[] }> {
  const rows = await queryRows<{ kind: string; name: string }>(
    db,
    sql`select c.relkind::text as kind, c.oid::regclass::text as name from pg_class c
        where c.relkind in ('r', 'S')
          and ${OWN_RELATION}
          and c.relnamespace = 'public'::regnamespace
        order by 2`,
  );
  return {
    tables: rows.filter((r) => r.kind === 'r').map((r) => r.name),
    sequences: rows.filter((r) => r.kind === 'S').map((r) => r.name),
  };
}

/** The platform tables the profile names (and a generic link table's content types), quoted. */
function platformTables(source: SourceProfile): string[] {
  const names = RELATION_NAMES.map((r) => (source[r] as { table: string }).table);
  const ct = source.tagLinks.contentType;
  return [...new Set([...names, ...(ct ? [ct.table] : [])])].map(
    (t) => `${ident(source.schema)}.${ident(t)}`,
  );
}

export async function grantsSql(db: Executor, source: SourceProfile, roles: GrantRoles): Promise<string[]> {
  const own = await ownObjects(db);
  const platform = platformTables(source).join(', ');
  const schemas = [...new Set(['public', source.schema])].map(ident).join(', ');
  const out: string[] = [];
  const [database] = await queryRows<{ name: string }>(db, sql`select current_database() as name`);
  if (roles.worker) {
    const r = ident(roles.worker);
    out.push(
      `GRANT USAGE ON SCHEMA ${schemas} TO ${r}`,
      `GRANT SELECT ON ${platform} TO ${r}`,
      // The versions cache: its column only (SELECT … FOR UPDATE needs UPDATE on one column).
      `GRANT UPDATE (${ident(source.sessions.versionsCache)}) ON ${ident(source.schema)}.${ident(source.sessions.table)} TO ${r}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${own.tables.join(', ')} TO ${r}`,
      `GRANT USAGE ON SEQUENCE ${own.sequences.join(', ')} TO ${r}`,
      // A full rebuild empties its scratch table of every chat's versions (versions-by-chat.ts).
      `GRANT TRUNCATE ON statcache_rebuild_versions TO ${r}`,
      // Each refresh batch and full rebuild keeps its keys and versions in a temp table.
      `GRANT TEMPORARY ON DATABASE ${ident(database?.name ?? '')} TO ${r}`,
    );
  }
  if (roles.dashboard) {
    const r = ident(roles.dashboard);
    out.push(
      `GRANT USAGE ON SCHEMA ${schemas} TO ${r}`,
      `GRANT SELECT ON ${platform} TO ${r}`,
      `GRANT SELECT ON ${own.tables.join(', ')} TO ${r}`,
    );
  }
  return out;
}
