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

/** Creates statcache's demo chat tables where missing (drizzle/demo/chat-tables.sql). */
export async function createDemoTables(db: Pick<StatDb, 'execute'>): Promise<void> {
  const text = readFileSync(join(migrationsFolder(), 'demo', 'chat-tables.sql'), 'utf8');
  for (const statement of text.split('--> statement-breakpoint')) {
    if (statement.replace(/--[^\n]*/g, '').trim()) await db.execute(sql.raw(statement));
  }
}
