/** An embedded PGlite database for `statcache demo` on a machine with nothing but Node. */
import { PGlite } from '@electric-sql/pglite';
import { drizzle, type PgliteDatabase } from 'drizzle-orm/pglite';

export type PgliteStatDb = PgliteDatabase & { $client: PGlite; close(): Promise<void> };

/** Opens (creating if needed) a PGlite database in `dataDir`. */
export async function createPgliteDb(dataDir: string): Promise<PgliteStatDb> {
  const client = await PGlite.create(dataDir);
  const db = drizzle({ client });
  return Object.assign(db, { close: () => client.close() });
}
