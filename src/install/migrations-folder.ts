/** Finds the package's `drizzle/` folder from source (src/db) and from the build (dist/src/db) alike. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** Absolute path of the folder holding the SQL migrations and meta/_journal.json. */
export function migrationsFolder(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'drizzle', 'meta', '_journal.json'))) {
      cached = join(dir, 'drizzle');
      return cached;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error('statcache is installed without its drizzle/ migrations folder; reinstall the package');
    dir = parent;
  }
}

/** The migrations this version of statcache expects, newest last. */
export function expectedMigrations(): { tag: string; when: number }[] {
  const journal = JSON.parse(readFileSync(join(migrationsFolder(), 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  };
  return journal.entries;
}
