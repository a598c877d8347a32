/** A fresh database per benchmark size, seeded with the deterministic workload. */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { createDemoTables } from '../src/install/install-source.js';
import { migrate } from '../src/install/migrate.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { note, timed } from './measure.js';

export interface BenchDatabase {
  name: string;
  url: string;
  db: NodePgStatDb;
  /** Whose tables hold the workload: the statcache demo schema or Open Chat Studio's. */
  source: SourceProfile;
  seedMs: number;
  drop(): Promise<void>;
}

/** What a suite measures in: a database and whose tables it holds. */
export type BenchTarget = Pick<BenchDatabase, 'db' | 'source'>;

/** The bench runs one statement at a time; a few spare connections cover vacuum and checks. */
const POOL_SIZE = 4;
/** The workload's seed: fixed, so every run of a size measures the same data. */
const SEED = 1;

function urlFor(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Drops and recreates `name` (default `statcache_bench_<messages>`, with `_<profile>` for a profile
 * other than statcache), creates `source`'s tables, migrates and seeds it.
 */
export async function createBenchDatabase(
  adminUrl: string,
  messages: number,
  options: {
    source?: SourceProfile;
    databaseName?: string;
    /** false: only the platform's tables and data, statcache not installed. @defaultValue true */
    install?: boolean;
  } = {},
): Promise<BenchDatabase> {
  const source = options.source ?? STATCACHE_PROFILE;
  const suffix = source === STATCACHE_PROFILE ? '' : `_${source.name}`;
  // Validate the size before touching the server.
  const size = workloadSize(messages);
  const name = options.databaseName ?? `statcache_bench_${messages}${suffix}`;
  // The name is built from a whole number and a built-in profile's name (or the caller's own
  // constant), so it is safe to splice into DDL.
  await admin(adminUrl, async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  const url = urlFor(adminUrl, name);
  const db = createDb(url, { max: POOL_SIZE, applicationName: 'statcache-bench' });
  const drop = async () => {
    await db.close();
    await admin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
  };
  try {
    if (options.install === false) await createDemoTables(db, source);
    else await migrate(db, { source, createSourceTables: true });
    note(`seeding ${messages.toLocaleString('en')} messages into ${name} (${source.name} profile)`);
    const seeded = await timed(() => seedWorkload(db, { seed: SEED, size, source }));
    note(`seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
    // A settled database, as autovacuum leaves it: statistics and the visibility map are current, so
    // index-only scans need no heap visits. Both the floor and the product path run after this.
    await db.execute(sql`vacuum analyze`);
    return { name, url, db, source, seedMs: seeded.ms, drop };
  } catch (error) {
    // A half-seeded database is worth nothing; do not leave it (or an open pool) behind.
    await drop();
    throw error;
  }
}
