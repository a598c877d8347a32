/** A fresh database per benchmark size, seeded with the deterministic workload. */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { migrate } from '../src/db/migrate.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { note, timed } from './measure.js';

export interface BenchDatabase {
  name: string;
  url: string;
  db: NodePgStatDb;
  seedMs: number;
  drop(): Promise<void>;
}

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

/** Drops and recreates `statcache_bench_<messages>`, migrates and seeds it. */
export async function createBenchDatabase(adminUrl: string, messages: number): Promise<BenchDatabase> {
  const name = `statcache_bench_${messages}`;
  await admin(adminUrl, async (client) => {
    await client.query(`drop database if exists ${name} with (force)`);
    await client.query(`create database ${name}`);
  });
  const url = urlFor(adminUrl, name);
  const db = createDb(url, { max: 4, applicationName: 'statcache-bench' });
  await migrate(db);
  note(`seeding ${messages.toLocaleString('en')} messages into ${name}`);
  const seeded = await timed(() => seedWorkload(db, { seed: 1, size: workloadSize(messages) }));
  note(`seeded in ${(seeded.ms / 1000).toFixed(1)} s`);
  // A settled database, as autovacuum leaves it: statistics and the visibility map are current, so
  // index-only scans need no heap visits. Both the floor and the product path run after this.
  await db.execute(sql`vacuum analyze`);
  return {
    name,
    url,
    db,
    seedMs: seeded.ms,
    drop: async () => {
      await db.close();
      await admin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`));
    },
  };
}
