/** A database of its own holding a built-in profile's platform tables and seeded data, statcache not installed. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { createDemoTables } from '../../src/install/install-source.js';
import { seedWorkload } from '../../src/seed/seed-workload.js';
import { workloadSize } from '../../src/seed/workload-size.js';
import { OCS_PROFILE } from '../../src/source/builtin-profiles.js';
import type { SourceProfile } from '../../src/source/source-profile.js';
import { createEmptyDatabase, type TestDatabase } from './test-db.js';

/** OCS's schema as Django creates it (drizzle/demo/ocs-tables.sql), or statcache's demo tables; then `messages` seeded. */
export async function createPlatformDatabase(
  source: SourceProfile,
  options: { seed: number; messages: number },
): Promise<TestDatabase> {
  const t = await createEmptyDatabase();
  if (source === OCS_PROFILE) {
    const client = new pg.Client({ connectionString: t.url });
    await client.connect();
    try {
      await client.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
    } finally {
      await client.end();
    }
  } else await createDemoTables(t.db, source);
  await seedWorkload(t.db, { seed: options.seed, size: workloadSize(options.messages), source });
  return t;
}
