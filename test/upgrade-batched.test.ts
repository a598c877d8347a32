/**
 * An upgrade of statcache's own tables that touches every row (0006: session buckets gain their
 * session's platform) runs after the migrations in bounded batches, each its own transaction:
 * interrupted, it resumes where it stopped; until it is done commands refuse to run on half-filled
 * rows; readers of the session buckets are never blocked meanwhile; at the end every bucket carries
 * its session's platform, buckets of deleted sessions are gone and the index INCLUDEs the platform.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as drizzleMigrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { createDemoTables } from '../src/install/install-source.js';
import { MIGRATIONS_TABLE, migrate } from '../src/install/migrate.js';
import { DEFAULT_LOCK_POLICY } from '../src/install/run-steps.js';
import { pendingUpgrades, runUpgrades } from '../src/install/upgrades.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { runCli } from './helpers/cli.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

let t: TestDatabase;
let before06: string;

/** drizzle/ as a release before 0006 shipped it: the journal's first six migrations. */
function folderBefore0006(): string {
  const dir = mkdtempSync(join(tmpdir(), 'statcache-pre0006-'));
  cpSync(resolve('drizzle'), dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: unknown[] };
  journal.entries = journal.entries.slice(0, 6);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

beforeAll(async () => {
  t = await createEmptyDatabase();
  await createDemoTables(t.db);
  before06 = folderBefore0006();
  await drizzleMigrate(t.db, { migrationsFolder: before06, ...MIGRATIONS_TABLE });
  await seedWorkload(t.db, { seed: 8, size: workloadSize(3_000) });
  // A cache as that release kept it: hourly session buckets, no platform; one whose session is gone.
  await t.db.execute(sql`
    insert into session_statistics_buckets (team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end,
                                            human_message_count, last_activity_at, updated_at)
    select s.team_id, s.experiment_id, s.id, 'hour', date_trunc('hour', m.created_at, 'UTC'),
           date_trunc('hour', m.created_at, 'UTC') + interval '1 hour', count(*), max(m.created_at), now()
    from experiment_sessions s join chat_messages m on m.chat_id = s.chat_id and m.message_type = 'human'
    group by 1, 2, 3, 5`);
  await t.db.execute(sql`
    insert into session_statistics_buckets (team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end,
                                            human_message_count, last_activity_at, updated_at)
    values (1, 1, 987654321, 'hour', '2026-10-01T00:00:00Z', '2026-10-01T01:00:00Z', 3, '2026-10-01T00:30:00Z', now())`);
});
afterAll(async () => {
  rmSync(before06, { recursive: true, force: true });
  await t?.drop();
});

it('runs in batches, resumes after an interruption, blocks no reader, and ends with every platform filled', async () => {
  // The SQL part of the upgrade: 0006 adds the column empty and records the upgrade to run.
  await drizzleMigrate(t.db, { migrationsFolder: resolve('drizzle'), ...MIGRATIONS_TABLE });
  expect(await pendingUpgrades(t.db)).toEqual(['0006_session_bucket_platform']);
  const sessions = toNumber(
    (
      await queryRows<{ n: unknown }>(
        t.db,
        sql`select count(distinct session_id) as n from session_statistics_buckets`,
      )
    )[0]?.n,
  );
  expect(sessions).toBeGreaterThan(30);

  // Interrupted after three batches of 10 sessions.
  const conn = await t.db.$client.connect();
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const onConn = drizzle({ client: conn });
  let batches = 0;
  await expect(
    runUpgrades(onConn as never, DEFAULT_LOCK_POLICY, {
      batchSessions: 10,
      onBatch: () => {
        if (++batches === 3) throw new Error('interrupted');
      },
    }),
  ).rejects.toThrow('interrupted');
  conn.release();
  const [cursor] = await queryRows<{ after: unknown }>(
    t.db,
    sql`select after_session_id as after from statcache_upgrades where name = '0006_session_bucket_platform'`,
  );
  expect(toNumber(cursor?.after)).toBeGreaterThan(0);
  // Half-filled rows: commands refuse to run until migrate finishes the upgrade.
  const refused = await runCli(['totals', '--experiment', '1'], t.url);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('0006_session_bucket_platform has not finished');
  expect(refused.stderr).toContain('run `statcache migrate` to finish it');

  // migrate finishes it while a reader pages the session buckets: no read waits on it.
  const reader = new pg.Client({ connectionString: t.url });
  await reader.connect();
  let stop = false;
  let longest = 0;
  let reads = 0;
  const reading = (async () => {
    while (!stop) {
      const started = Date.now();
      await reader.query(
        'select session_id, human_message_count from session_statistics_buckets order by session_id limit 25 offset 10',
      );
      longest = Math.max(longest, Date.now() - started);
      reads++;
    }
  })();
  try {
    expect((await migrate(t.db)).applied).toBe(0);
  } finally {
    stop = true;
    await reading;
    await reader.end();
  }
  expect(reads).toBeGreaterThan(0);
  expect(longest).toBeLessThan(1_000);
  expect(await pendingUpgrades(t.db)).toEqual([]);
  const [check] = await queryRows<{ wrong: unknown; orphans: unknown; index: string }>(
    t.db,
    sql`select (select count(*) from session_statistics_buckets b join experiment_sessions s on s.id = b.session_id
                where b.platform is distinct from s.platform) as wrong,
               (select count(*) from session_statistics_buckets where session_id = 987654321) as orphans,
               (select indexdef from pg_indexes where indexname = 'session_statistics_buckets_experiment_size_start_idx') as index`,
  );
  expect(toNumber(check?.wrong)).toBe(0);
  expect(toNumber(check?.orphans)).toBe(0);
  expect(check?.index).toMatch(/INCLUDE \(session_id, human_message_count, last_activity_at, platform\)$/);
  expect((await runCli(['totals', '--experiment', '1'], t.url)).code).toBe(0);
});
