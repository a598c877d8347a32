/**
 * What `migrate` does to the platform's own tables, as a list of steps computed from the database
 * as it is: each step's statements, whether they run in one short transaction or outside any
 * (CREATE INDEX CONCURRENTLY), and the lock each takes on which platform table. `migrate --dry-run`
 * prints the list; migrate runs it (run-steps.ts).
 */
import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db/types.js';
import { checkSource } from '../source/check-source.js';
import type { SourceProfile } from '../source/source-profile.js';
import { ident } from './capture-names.js';
import { captureDdl } from './capture-triggers-sql.js';

export interface TableLock {
  /** The platform table, schema-qualified. */
  table: string;
  mode: 'ACCESS EXCLUSIVE' | 'SHARE ROW EXCLUSIVE' | 'SHARE UPDATE EXCLUSIVE';
  /** What the lock blocks, for people reading --dry-run. */
  blocks: string;
}

export interface InstallStep {
  what: string;
  statements: string[];
  /** One transaction for all statements; false: each on its own, outside any (CONCURRENTLY). */
  transaction: boolean;
  lock: TableLock | null;
  /** Run before a retry of a step that failed on a lock: what an interrupted attempt left (an INVALID index). */
  beforeRetry?: string[];
}

/** PostgreSQL truncates longer names; long index names end in a hash of the full one instead. */
const MAX_NAME_BYTES = 63;

/** `statcache_<table>_<columns>_idx`, or its first bytes and a hash when that is too long. */
export function indexName(table: string, columns: readonly string[]): string {
  const full = `statcache_${table}_${columns.join('_')}_idx`;
  if (Buffer.byteLength(full) <= MAX_NAME_BYTES) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${Buffer.from(full)
    .subarray(0, MAX_NAME_BYTES - 9)
    .toString('utf8')
    .replace(/\uFFFD+$/, '')}_${hash}`;
}

/** What each lock blocks, as --dry-run and uninstall say it. */
export const BLOCKS = {
  catalog: 'reads and writes of the table, for the milliseconds a catalog change takes',
  concurrent: 'no reads or writes; it waits for transactions already running on the table to end',
  writes: 'writes to the table (not reads), for the milliseconds the statements take',
} as const;

/** statcache's own relations (alias `c` of pg_class): the two bucket tables and everything named statcache_*. */
export const OWN_RELATION = sql`(c.relname in ('experiment_statistics_buckets', 'session_statistics_buckets')
                                 or c.relname like 'statcache\\_%')`;

/** `schema.table` as PostgreSQL prints a regclass, for messages and lock lookups. */
const qualified = (schema: string, table: string) => `${ident(schema)}.${ident(table)}`;

/** The statcache indexes on the profile's tables left INVALID by an interrupted concurrent build. */
async function invalidIndexes(
  db: Executor,
  source: SourceProfile,
): Promise<{ name: string; table: string }[]> {
  const tables = [source.messages, source.sessions, source.experiments, source.tagLinks, source.tags].map(
    (r) => qualified(source.schema, r.table),
  );
  return queryRows<{ name: string; table: string }>(
    db,
    sql`select ic.relname as name, i.indrelid::regclass::text as table
        from pg_index i join pg_class ic on ic.oid = i.indexrelid
        where not i.indisvalid and ic.relname like 'statcache\\_%'
          and i.indrelid = any(array(select to_regclass(t) from unnest(${sql.param(tables)}::text[]) t))
        order by 1`,
  );
}

/** Whether `schema.table` has `column`. */
export async function hasColumn(
  db: Executor,
  schema: string,
  table: string,
  column: string,
): Promise<boolean> {
  const [row] = await queryRows<{ present: boolean }>(
    db,
    sql`select exists (select 1 from information_schema.columns
                       where table_schema = ${schema} and table_name = ${table} and column_name = ${column}) as present`,
  );
  return row?.present ?? false;
}

/**
 * Whether a step builds (or drops the INVALID leftover of) an index on a platform table. migrate
 * runs these before statcache's own tables exist: once they exist, reads go through statcache
 * (counted live until the first build) and must find the indexes there, and a long read would hold
 * up a concurrent index build.
 */
export function isIndexStep(step: InstallStep): boolean {
  return /^(CREATE|DROP) INDEX/.test(step.statements[0] ?? '');
}

/** The steps that bring `source`'s tables to what this version installs, in order. */
export async function planInstall(db: Executor, source: SourceProfile): Promise<InstallStep[]> {
  const steps: InstallStep[] = [];
  const sessions = qualified(source.schema, source.sessions.table);
  if (!(await hasColumn(db, source.schema, source.sessions.table, source.sessions.versionsCache)))
    steps.push({
      what: `add the versions-cache column to ${sessions} (a constant default: no table rewrite)`,
      // A constant default makes this a metadata-only change (PostgreSQL 11+), and keeps the column
      // invisible to a platform's inserts that do not name it.
      statements: [
        `ALTER TABLE ${sessions} ADD COLUMN IF NOT EXISTS ${ident(source.sessions.versionsCache)} text[] NOT NULL DEFAULT '{}'::text[]`,
      ],
      transaction: true,
      lock: { table: sessions, mode: 'ACCESS EXCLUSIVE', blocks: BLOCKS.catalog },
    });
  for (const invalid of await invalidIndexes(db, source))
    steps.push({
      what: `drop the INVALID index ${invalid.name} an interrupted build left, to build it again`,
      statements: [`DROP INDEX CONCURRENTLY IF EXISTS ${ident(source.schema)}.${ident(invalid.name)}`],
      transaction: false,
      lock: { table: invalid.table, mode: 'SHARE UPDATE EXCLUSIVE', blocks: BLOCKS.concurrent },
    });
  for (const index of (await checkSource(db, source)).indexes) {
    if (index.index !== null) continue;
    const name = `${ident(source.schema)}.${ident(indexName(index.table, index.columns))}`;
    const table = qualified(source.schema, index.table);
    steps.push({
      what: `build the index statcache needs on ${table} (${index.columns.join(', ')}): ${index.reason}`,
      statements: [
        `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${ident(indexName(index.table, index.columns))} ON ${table} (${index.columns.map(ident).join(', ')})`,
      ],
      transaction: false,
      lock: { table, mode: 'SHARE UPDATE EXCLUSIVE', blocks: BLOCKS.concurrent },
      // A build that timed out waiting for a lock leaves an INVALID index of that name behind.
      beforeRetry: [`DROP INDEX CONCURRENTLY IF EXISTS ${name}`],
    });
  }
  const ddl = captureDdl(source);
  steps.push({
    what: 'create or replace the change-capture functions',
    statements: ddl.functions,
    transaction: true,
    lock: null,
  });
  for (const { table, statements } of ddl.triggers)
    steps.push({
      what: `capture triggers on ${table}`,
      statements,
      transaction: true,
      lock: {
        table,
        mode: 'SHARE ROW EXCLUSIVE',
        blocks: BLOCKS.writes,
      },
    });
  return steps;
}
