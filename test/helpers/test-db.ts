/** A database of its own per test file, cloned from the migrated template; dropped afterwards. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, type NodePgStatDb } from '../../src/db/create-db.js';
import { ADMIN_DATABASE_URL, databaseUrl } from './env.js';

export interface TestDatabase {
  name: string;
  url: string;
  db: NodePgStatDb;
  /** Drops the database (closing db first). */
  drop(): Promise<void>;
}

const OBJECT_IN_USE = '55006';
const CLONE_ATTEMPTS = 20;

/** Creates an empty (unmigrated) database, for migrate tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  return createDatabase(null);
}

/** Clones the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  return createDatabase(inject('templateDatabase'));
}

async function createDatabase(template: string | null): Promise<TestDatabase> {
  const name = `statcache_t_${randomBytes(6).toString('hex')}`;
  await withAdmin(async (admin) => {
    // Two files cloning the template at the same moment collide ("being accessed by other users").
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.query(`create database ${name}${template ? ` template ${template}` : ''}`);
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== OBJECT_IN_USE || attempt >= CLONE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  });
  const url = databaseUrl(name);
  const db = createDb(url, { max: 4 });
  return {
    name,
    url,
    db,
    drop: async () => {
      await db.close().catch(() => {});
      await withAdmin((admin) => admin.query(`drop database if exists ${name} with (force)`));
    },
  };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
