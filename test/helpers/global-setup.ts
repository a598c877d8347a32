/**
 * Runs once per `vitest run`: builds dist/ (the CLI tests run the real bin) and creates a migrated
 * template database that every test file clones (CREATE DATABASE … TEMPLATE), then drops it.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { createDb } from '../../src/db/create-db.js';
import { migrate } from '../../src/install/migrate.js';
import { ADMIN_DATABASE_URL, databaseUrl } from './env.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const template = `statcache_tpl_${process.pid}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`drop database if exists ${template}`);
  await admin.query(`create database ${template}`);
  const db = createDb(databaseUrl(template), { max: 1 });
  await migrate(db, { createSourceTables: true });
  await db.close();
  project.provide('templateDatabase', template);
  return async () => {
    await admin.query(`drop database if exists ${template} with (force)`);
    await admin.end();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}
