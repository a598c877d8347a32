/**
 * What statcache adds to the platform's own tables, generated from the source profile and
 * re-applied by every `migrate` (idempotent): the versions-cache column on the session table, the
 * indexes statcache needs that the platform lacks (named statcache_*), and the change-capture
 * functions and triggers (one transaction, so a platform never runs with half of them). Also
 * statcache's demo chat tables, on request.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { StatDb } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { checkSource } from '../source/check-source.js';
import type { SourceProfile } from '../source/source-profile.js';
import { captureTriggersSql, ident } from './capture-triggers-sql.js';
import { migrationsFolder } from './migrations-folder.js';

type Db = Pick<StatDb, 'execute' | 'transaction'>;

/** PostgreSQL truncates longer names; long index names end in a hash of the full one instead. */
const MAX_NAME_BYTES = 63;

export interface InstallResult {
  /** Indexes created because the platform had none serving (their names). */
  indexesCreated: string[];
  /** Capture DDL statements run. */
  triggerStatements: number;
}

/** Installs (or re-installs) statcache's parts on `source`'s tables. */
export async function installSource(db: Db, source: SourceProfile): Promise<InstallResult> {
  const sessions = `${ident(source.schema)}.${ident(source.sessions.table)}`;
  // A constant default makes this a metadata-only change (PostgreSQL 11+), and keeps the column
  // invisible to a platform's inserts that do not name it.
  await db.execute(
    sql.raw(
      `ALTER TABLE ${sessions} ADD COLUMN IF NOT EXISTS ${ident(source.sessions.versionsCache)} text[] NOT NULL DEFAULT '{}'::text[]`,
    ),
  );
  const indexesCreated: string[] = [];
  for (const index of (await checkSource(db, source)).indexes) {
    if (index.index !== null) continue;
    const name = indexName(index.table, index.columns);
    await db.execute(
      sql.raw(
        `CREATE INDEX IF NOT EXISTS ${ident(name)} ON ${ident(source.schema)}.${ident(index.table)} (${index.columns.map(ident).join(', ')})`,
      ),
    );
    indexesCreated.push(name);
  }
  const statements = captureTriggersSql(source);
  await db.transaction(async (tx) => {
    for (const statement of statements) await tx.execute(sql.raw(statement));
  });
  return { indexesCreated, triggerStatements: statements.length };
}

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

/** Each built-in profile's demo tables: statcache's own demo platform, and OCS's schema as Django creates it. */
const DEMO_TABLES: ReadonlyMap<SourceProfile, string> = new Map([
  [STATCACHE_PROFILE, 'chat-tables.sql'],
  [OCS_PROFILE, 'ocs-tables.sql'],
]);

/**
 * Creates a built-in profile's demo tables (drizzle/demo): statcache's where missing (every
 * statement IF NOT EXISTS); OCS's only on a database that has none of them (its DDL is Django's,
 * exactly). Throws InvalidInputError for another profile, or for an OCS schema partly there.
 */
export async function createDemoTables(
  db: Pick<StatDb, 'execute'>,
  source: SourceProfile = STATCACHE_PROFILE,
): Promise<void> {
  const file = DEMO_TABLES.get(source);
  if (!file)
    throw new InvalidInputError(
      `--create-source-tables creates the demo tables of the built-in profiles only, not those of source profile ${source.name}; drop the option`,
      'create-source-tables',
    );
  const text = readFileSync(join(migrationsFolder(), 'demo', file), 'utf8');
  if (source === STATCACHE_PROFILE) {
    for (const statement of text.split('--> statement-breakpoint'))
      if (statement.replace(/--[^\n]*/g, '').trim()) await db.execute(sql.raw(statement));
    return;
  }
  const check = await checkSource(db, source);
  const present = check.columns.some((c) => c.status !== 'missing table');
  if (present) {
    if (check.ok) return;
    throw new InvalidInputError(
      `--create-source-tables builds ${source.name}'s schema only on a database without it, and this one has part of it; drop the option and fix the tables \`statcache source\` lists`,
      'create-source-tables',
    );
  }
  // Django's DDL is plain statements: one multi-statement simple query (node-postgres and PGlite both take it).
  const client = (
    db as {
      $client?: { exec?: (text: string) => Promise<unknown>; query: (text: string) => Promise<unknown> };
    }
  ).$client;
  if (!client) throw new Error('createDemoTables needs a drizzle database over node-postgres or PGlite');
  if (typeof client.exec === 'function') await client.exec(text);
  else await client.query(text);
}
