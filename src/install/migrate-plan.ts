/**
 * What `migrate` would run on this database, in order, without running it: the indexes statcache
 * needs on the platform's tables, the pending migrations of statcache's own tables, then the other
 * steps on the platform's tables (install-plan.ts), each with the lock it takes. Reads the catalogs
 * only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StatDb } from '../db/types.js';
import { SourceMismatchError } from '../errors/error-classes.js';
import { checkSource, describeMismatch } from '../source/check-source.js';
import type { SourceProfile } from '../source/source-profile.js';
import { type InstallStep, isIndexStep, planInstall } from './install-plan.js';
import { appliedCount } from './migrate.js';
import { expectedMigrations, migrationsFolder } from './migrations-folder.js';
import { PLATFORM_UPGRADE, pendingUpgrades } from './upgrades.js';

export interface MigratePlan {
  profile: string;
  /** First, on the platform's tables: the indexes statcache needs (before its own tables exist). */
  indexSteps: InstallStep[];
  /** Migrations not applied yet: statcache's own tables and functions, all in one transaction. */
  migrations: { tag: string; statements: string[] }[];
  /** Then batched upgrades of statcache's own tables (pending now, or recorded by a pending migration). */
  upgrades: string[];
  /** Then, on the platform's tables: the rest. */
  steps: InstallStep[];
}

export async function planMigrate(db: StatDb, source: SourceProfile): Promise<MigratePlan> {
  const check = await checkSource(db, source);
  if (!check.ok) throw new SourceMismatchError(source.name, describeMismatch(check));
  const applied = await appliedCount(db);
  const migrations = expectedMigrations()
    .slice(applied)
    .map(({ tag }) => ({
      tag,
      statements: readFileSync(join(migrationsFolder(), `${tag}.sql`), 'utf8')
        .split('--> statement-breakpoint')
        .map((statement) => statement.trim())
        .filter((statement) => statement.replace(/--[^\n]*/g, '').trim() !== ''),
    }));
  const recorded = migrations.some((m) =>
    m.statements.some((s) => s.includes('INSERT INTO "statcache_upgrades"')),
  );
  const upgrades = [...new Set([...(await pendingUpgrades(db)), ...(recorded ? [PLATFORM_UPGRADE] : [])])];
  const steps = await planInstall(db, source);
  return {
    profile: source.name,
    indexSteps: steps.filter(isIndexStep),
    migrations,
    upgrades,
    steps: steps.filter((step) => !isIndexStep(step)),
  };
}
