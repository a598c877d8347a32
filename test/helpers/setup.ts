/**
 * The one shared test setup: the platforms excluded as in production, a database of the file's own
 * (cloned from the migrated template, dropped after the file) with a ChatFixture and, on request, a
 * team, and the checks most suites end with: verify finds the cache exact, and nothing is left pending.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect } from 'vitest';
import { DEFAULT_BATCH_EXPERIMENTS, DEFAULT_EXCLUDED_PLATFORMS } from '../../src/config.js';
import type { NodePgStatDb } from '../../src/db/create-db.js';
import { type Executor, queryRows, type StatDb, toNumber } from '../../src/db/types.js';
import type { Mismatch, VerifyResult } from '../../src/verify/mismatch.js';
import { type VerifyOptions, verify } from '../../src/verify/verify.js';
import { ChatFixture } from './fixtures.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

/** The excluded platforms every test counts with: production's default, not a second spelling. */
export const EXCLUDED_PLATFORMS: readonly string[] = DEFAULT_EXCLUDED_PLATFORMS;

export interface TestContext {
  /** The database's name (e.g. for messages that name it). */
  readonly name: string;
  readonly url: string;
  readonly db: NodePgStatDb;
  /** Inserts chat rows into `db`; usable at module level, it resolves `db` on each call. */
  readonly fixture: ChatFixture;
}

export interface TeamTestContext extends TestContext {
  /** A team created in beforeAll, for files whose rows all belong to one team. */
  readonly teamId: number;
}

export interface TestDatabaseOptions {
  /** Create a team in beforeAll and expose its id as `teamId`. @defaultValue false */
  team?: boolean;
  /**
   * Record the cache as built (as a first refresh would), for files that write buckets by hand:
   * reads of a cache never built are counted live from the chat tables. @defaultValue false
   */
  built?: boolean;
}

/**
 * Registers this file's beforeAll (clone the template, create the team if asked) and afterAll
 * (drop the clone) and returns the context they fill. Call it once at the top of a test file, before
 * the file's own hooks: beforeAll hooks run in the order they are declared and afterAll hooks in
 * reverse (vitest's default `sequence.hooks: 'stack'`), so the file's own setup sees the database and
 * its own teardown runs before the drop. The context's fields throw if read before beforeAll ran.
 */
export function useTestDatabase(options: TestDatabaseOptions & { team: true }): TeamTestContext;
export function useTestDatabase(options?: TestDatabaseOptions): TestContext;
export function useTestDatabase(options: TestDatabaseOptions = {}): TeamTestContext {
  let database: TestDatabase | undefined;
  let teamId: number | undefined;
  const ready = (): TestDatabase => {
    if (!database)
      throw new Error('the test database is created in beforeAll; read it inside a hook or a test');
    return database;
  };
  const fixture = new ChatFixture(() => ready().db);
  beforeAll(async () => {
    database = await createTestDatabase();
    if (options.team) teamId = await fixture.team();
    if (options.built)
      await database.db.execute(
        sql`insert into statcache_refresh_state (id, refreshed_at) values (1, now())`,
      );
  });
  afterAll(async () => {
    await database?.drop();
  });
  return {
    get name() {
      return ready().name;
    },
    get url() {
      return ready().url;
    },
    get db() {
      return ready().db;
    },
    fixture,
    get teamId() {
      ready();
      if (teamId === undefined) throw new Error('no team: call useTestDatabase({ team: true })');
      return teamId;
    },
  };
}

export type ExpectCacheExactOptions = Partial<Omit<VerifyOptions, 'onProgress'>>;

/** How many mismatches a failure message lists in full (the count is always given). */
const MISMATCHES_SHOWN = 20;

/**
 * Runs verify (every experiment unless `experimentIds` is given; excluded platforms and batch size
 * default to production's, the source profile to statcache's demo schema unless `source` is given)
 * and asserts it finds no mismatch. On failure the message lists the
 * mismatches one JSON line each. Resolves with the result, for tests that also check `checked`.
 */
export async function expectCacheExact(
  db: StatDb,
  options: ExpectCacheExactOptions = {},
): Promise<VerifyResult> {
  const result = await verify(db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: DEFAULT_BATCH_EXPERIMENTS,
    ...options,
  });
  // Exact means no difference at all: neither drift nor lag a pending change would explain.
  const differences = [...result.mismatches, ...result.pending];
  expect(differences, describeMismatches(differences)).toEqual([]);
  return result;
}

function describeMismatches(mismatches: readonly Mismatch[]): string {
  const lines = mismatches.slice(0, MISMATCHES_SHOWN).map((m) => JSON.stringify(m));
  const more =
    mismatches.length > MISMATCHES_SHOWN ? `\n… and ${mismatches.length - MISMATCHES_SHOWN} more` : '';
  return `verify found ${mismatches.length} mismatch(es):\n${lines.join('\n')}${more}`;
}

/** How many change rows are queued: 0 after a refresh that ran with no writer alongside. */
export async function pendingChangeCount(db: Executor): Promise<number> {
  const [row] = await queryRows<{ n: unknown }>(db, sql`select count(*) as n from statcache_changes`);
  return toNumber(row?.n);
}
