/**
 * What statcache adds to the platform's own tables, generated from the source profile and
 * re-applied by every `migrate` (idempotent; the steps are in install-plan.ts): the versions-cache
 * column on the session table, the indexes statcache needs that the platform lacks (named
 * statcache_*, built CONCURRENTLY), and the change-capture functions and triggers. Also statcache's
 * demo chat tables, on request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { onOneConnection } from '../db/on-one-connection.js';
import type { StatDb } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import { checkSource } from '../source/check-source.js';
import type { SourceProfile } from '../source/source-profile.js';
import { isIndexStep, planInstall } from './install-plan.js';
import { migrationsFolder } from './migrations-folder.js';
import { DEFAULT_LOCK_POLICY, type LockPolicy, runSteps } from './run-steps.js';

export interface InstallResult {
  /** Indexes created because the platform had none serving (their names). */
  indexesCreated: string[];
  /** Capture DDL statements run. */
  triggerStatements: number;
}

/**
 * Installs (or re-installs) statcache's parts on `source`'s tables: the steps of planInstall (only
 * its index steps with `only: 'indexes'`), each under a short lock_timeout and retried
 * (run-steps.ts), on one connection.
 */
export async function installSource(
  db: StatDb,
  source: SourceProfile,
  policy: LockPolicy = DEFAULT_LOCK_POLICY,
  only: 'indexes' | 'all' = 'all',
): Promise<InstallResult> {
  return onOneConnection(db, async (conn) => {
    const planned = await planInstall(conn, source);
    const steps = only === 'indexes' ? planned.filter(isIndexStep) : planned;
    await runSteps(conn, steps, policy);
    return {
      indexesCreated: steps.filter((s) => s.statements[0]?.startsWith('CREATE INDEX')).map((s) => s.what),
      triggerStatements: steps
        .filter((s) => s.lock?.mode === 'SHARE ROW EXCLUSIVE')
        .flatMap((s) => s.statements).length,
    };
  });
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
