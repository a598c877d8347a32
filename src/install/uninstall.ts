/**
 * `statcache uninstall`: removes everything statcache installed and nothing else, found in the
 * catalogs by name (so it also finds what an older version or another profile installed): the
 * capture triggers on the platform's tables, statcache's functions and tables (its migration
 * records with them), its `statcache_*` indexes on the platform's tables, and the versions column on
 * the profile's session table. Steps run like migrate's (run-steps.ts): short lock_timeout, retries.
 */
import { sql } from 'drizzle-orm';
import { LOCK_SPACE } from '../db/advisory-locks.js';
import { onOneConnection } from '../db/on-one-connection.js';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import type { SourceProfile } from '../source/source-profile.js';
import { ident } from './capture-names.js';
import { BLOCKS, hasColumn, type InstallStep, OWN_RELATION } from './install-plan.js';
import { DEFAULT_LOCK_POLICY, type LockPolicy, runSteps } from './run-steps.js';

/** The steps that remove statcache from this database, in order (nothing when it is not installed). */
export async function planUninstall(db: StatDb, source: SourceProfile): Promise<InstallStep[]> {
  const steps: InstallStep[] = [];
  const triggers = await queryRows<{ tbl: string; name: string }>(
    db,
    sql`select t.tgrelid::regclass::text as tbl, t.tgname as name from pg_trigger t
        where not t.tgisinternal and t.tgname like 'statcache\\_capture\\_%' order by 1, 2`,
  );
  const byTable = new Map<string, string[]>();
  for (const t of triggers) byTable.set(t.tbl, [...(byTable.get(t.tbl) ?? []), t.name]);
  for (const [table, names] of byTable)
    steps.push({
      what: `drop the capture triggers on ${table}`,
      statements: names.map((name) => `DROP TRIGGER IF EXISTS ${ident(name)} ON ${table}`),
      transaction: true,
      lock: { table, mode: 'ACCESS EXCLUSIVE', blocks: BLOCKS.catalog },
    });
  const own = await queryRows<{ kind: string; name: string }>(
    db,
    sql`select 'function' as kind, p.oid::regprocedure::text as name from pg_proc p
        where p.proname like 'statcache\\_%'
        union all
        select 'table', c.oid::regclass::text from pg_class c where c.relkind in ('r', 'p', 'v', 'm') and ${OWN_RELATION}
        order by 1 desc, 2`,
  );
  if (own.length > 0)
    steps.push({
      what: "drop statcache's own tables and functions (its buckets, change queue, runs and migration records)",
      // One statement per kind (their references to each other go with them), without CASCADE: an
      // object of the platform's that depends on one of them makes this fail instead of going too.
      statements: (['table', 'function'] as const).flatMap((kind) => {
        const names = own.filter((o) => o.kind === kind).map((o) => o.name);
        return names.length === 0 ? [] : [`DROP ${kind.toUpperCase()} IF EXISTS ${names.join(', ')}`];
      }),
      transaction: true,
      lock: null,
    });
  const indexes = await queryRows<{ name: string; tbl: string }>(
    db,
    sql`select i.indexrelid::regclass::text as name, i.indrelid::regclass::text as tbl
        from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_class c on c.oid = i.indrelid
        where ic.relname like 'statcache\\_%' and not ${OWN_RELATION} order by 1`,
  );
  for (const index of indexes)
    steps.push({
      what: `drop the index statcache added, ${index.name}`,
      statements: [`DROP INDEX CONCURRENTLY IF EXISTS ${index.name}`],
      transaction: false,
      lock: {
        table: index.tbl,
        mode: 'SHARE UPDATE EXCLUSIVE',
        blocks: BLOCKS.concurrent,
      },
    });
  if (await hasColumn(db, source.schema, source.sessions.table, source.sessions.versionsCache)) {
    const sessions = `${ident(source.schema)}.${ident(source.sessions.table)}`;
    steps.push({
      what: `drop the versions-cache column of ${sessions} (a catalog change: no table rewrite)`,
      statements: [`ALTER TABLE ${sessions} DROP COLUMN IF EXISTS ${ident(source.sessions.versionsCache)}`],
      transaction: true,
      lock: {
        table: sessions,
        mode: 'ACCESS EXCLUSIVE',
        blocks: BLOCKS.catalog,
      },
    });
  }
  return steps;
}

/** Other sessions that look like a running statcache: holding its advisory locks, or named statcache-worker. */
export async function runningStatcache(db: StatDb): Promise<string[]> {
  const rows = await queryRows<{ pid: unknown; application: string | null; why: string }>(
    db,
    sql`select a.pid, a.application_name as application,
               case when exists (select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'advisory'
                                   and l.classid = ${LOCK_SPACE}::oid and l.objsubid = 2)
                    then 'holds statcache locks' else 'connected' end as why
        from pg_stat_activity a
        where a.pid <> pg_backend_pid() and a.datname = current_database()
          and (a.application_name = 'statcache-worker'
               or exists (select 1 from pg_locks l where l.pid = a.pid and l.locktype = 'advisory'
                            and l.classid = ${LOCK_SPACE}::oid and l.objsubid = 2))
        order by a.pid`,
  );
  return rows.map((r) => `session ${toNumber(r.pid)} (${r.application || 'no application name'}, ${r.why})`);
}

export interface UninstallOptions {
  source: SourceProfile;
  /** Go ahead even when a statcache worker seems to be running. */
  force?: boolean;
  lockPolicy?: LockPolicy;
}

/** Runs planUninstall's steps on one connection; refuses while a worker runs, unless `force`. */
export async function uninstall(db: StatDb, options: UninstallOptions): Promise<InstallStep[]> {
  return onOneConnection(db, async (conn) => {
    if (!options.force) {
      const running = await runningStatcache(conn);
      if (running.length > 0)
        throw new InvalidInputError(
          `statcache is running against this database (${running.join('; ')}); stop its workers first, or pass --force`,
          'force',
        );
    }
    const steps = await planUninstall(conn, options.source);
    await runSteps(conn, steps, options.lockPolicy ?? DEFAULT_LOCK_POLICY);
    return steps;
  });
}
