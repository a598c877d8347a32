/**
 * Installing and removing statcache on a live database, for both profiles: `migrate --dry-run`
 * changes nothing and names every lock; install + uninstall leave the platform's schema as pg_dump
 * printed it before and its data unchanged, and installing again works; an INVALID index left by an
 * interrupted concurrent build is rebuilt; a long transaction on a platform table makes migrate give
 * up (exit 1, naming the table and the session) without holding writers up for long meanwhile.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/types.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { runCli } from './helpers/cli.js';
import { createPlatformDatabase } from './helpers/platform-db.js';
import type { TestDatabase } from './helpers/test-db.js';

const run = promisify(execFile);
const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const d of databases) await d.drop();
});

/** A database holding a platform's tables and seeded data, statcache not installed. */
async function platformDatabase(source: SourceProfile): Promise<TestDatabase> {
  const t = await createPlatformDatabase(source, { seed: 2, messages: 2_000 });
  databases.push(t);
  return t;
}

/** pg_dump --schema-only, without the lines that differ on every run. */
async function schemaDump(t: TestDatabase): Promise<string> {
  const { stdout } = await run('pg_dump', ['--schema-only', '--no-owner', t.url], {
    maxBuffer: 64 * 2 ** 20,
  });
  return stdout
    .split('\n')
    .filter((line) => !/^\\(un)?restrict /.test(line))
    .join('\n');
}

/** An md5 of every row of every table in the schema, per table. */
async function dataChecksums(t: TestDatabase): Promise<Record<string, string>> {
  const tables = await queryRows<{ name: string }>(
    t.db,
    sql`select c.oid::regclass::text as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' order by 1`,
  );
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    const [row] = await queryRows<{ sum: string | null }>(
      t.db,
      sql.raw(`select md5(string_agg(r::text, '|' order by r::text)) as sum from ${name} r`),
    );
    out[name] = row?.sum ?? 'empty';
  }
  return out;
}

const envFor = (source: SourceProfile) => ({ STATCACHE_SOURCE: source.name });

describe.each([STATCACHE_PROFILE, OCS_PROFILE])('profile $name', (source) => {
  it('migrate --dry-run lists every statement and lock and changes nothing; install + uninstall leave schema and data as they were; install again works', async () => {
    const t = await platformDatabase(source);
    const schemaBefore = await schemaDump(t);
    const dataBefore = await dataChecksums(t);

    const dry = await runCli(['migrate', '--dry-run'], t.url, envFor(source));
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('nothing was changed');
    expect(dry.stdout).toMatch(/CREATE OR REPLACE TRIGGER statcache_capture_insert AFTER INSERT ON/);
    expect(dry.stdout).toMatch(/SHARE ROW EXCLUSIVE on "public"\."[a-z_]+"/);
    if (source === OCS_PROFILE) {
      expect(dry.stdout).toMatch(
        /CREATE INDEX CONCURRENTLY IF NOT EXISTS "statcache_experiments_experimentsession/,
      );
      expect(dry.stdout).toContain('outside a transaction');
      expect(dry.stdout).toMatch(/ADD COLUMN IF NOT EXISTS "cached_experiment_versions"/);
    }
    expect(await schemaDump(t)).toBe(schemaBefore);

    const installed = await runCli(['migrate'], t.url, envFor(source));
    expect(installed.stderr).toBe('');
    expect(installed.code).toBe(0);
    expect(await runCli(['refresh', '--full'], t.url, envFor(source))).toMatchObject({ code: 0 });
    expect(await schemaDump(t)).not.toBe(schemaBefore);

    const preview = await runCli(['uninstall'], t.url, envFor(source));
    expect(preview.code).toBe(0);
    expect(preview.stdout).toContain('pass --yes to do it');
    expect(preview.stdout).toContain('DROP TABLE IF EXISTS experiment_statistics_buckets');

    const removed = await runCli(['uninstall', '--yes'], t.url, envFor(source));
    expect(removed.stderr).toBe('');
    expect(removed.code).toBe(0);
    expect(await schemaDump(t)).toBe(schemaBefore);
    expect(await dataChecksums(t)).toEqual(dataBefore);

    const again = await runCli(['migrate'], t.url, envFor(source));
    expect(again.code).toBe(0);
    expect(await runCli(['refresh'], t.url, envFor(source))).toMatchObject({ code: 0 });
    expect(await runCli(['verify'], t.url, envFor(source))).toMatchObject({ code: 0 });
  });
});

describe('on the ocs profile', () => {
  it('an INVALID index an interrupted concurrent build left is dropped and built again', async () => {
    const t = await platformDatabase(OCS_PROFILE);
    expect((await runCli(['migrate'], t.url, envFor(OCS_PROFILE))).code).toBe(0);
    const name = 'statcache_experiments_experimentsession_experiment_id__2b2f2653';
    // What CREATE INDEX CONCURRENTLY leaves when it is cancelled: the index, marked invalid.
    await t.db.execute(
      sql.raw(`update pg_index set indisvalid = false where indexrelid = '${name}'::regclass`),
    );
    const source = await runCli(['source'], t.url, envFor(OCS_PROFILE));
    expect(source.stdout).toMatch(/experiment_id, created_at\s+missing/);
    const dry = await runCli(['migrate', '--dry-run'], t.url, envFor(OCS_PROFILE));
    expect(dry.stdout).toContain(`drop the INVALID index ${name}`);
    expect((await runCli(['migrate'], t.url, envFor(OCS_PROFILE))).code).toBe(0);
    const [index] = await queryRows<{ valid: boolean }>(
      t.db,
      sql.raw(`select indisvalid as valid from pg_index where indexrelid = '${name}'::regclass`),
    );
    expect(index?.valid).toBe(true);
  });
});

describe.each([STATCACHE_PROFILE, OCS_PROFILE])('profile $name, under a long transaction', (source) => {
  it('a long transaction on a platform table: migrate retries, gives up naming it, and writers are never held up long', async () => {
    const t = await platformDatabase(source);
    expect((await runCli(['migrate'], t.url, envFor(source))).code).toBe(0);
    const blocker = new pg.Client({ connectionString: t.url, application_name: 'long-report' });
    const writer = new pg.Client({ connectionString: t.url });
    await blocker.connect();
    await writer.connect();
    try {
      await blocker.query('begin');
      // A writer's lock, held for as long as the transaction stays open: re-creating the capture
      // triggers on this table (SHARE ROW EXCLUSIVE) must wait for it.
      await blocker.query(`lock table ${source.messages.table} in row exclusive mode`);
      const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]
        ?.pid;
      const [chat] = (
        await writer.query<{ id: string }>(`select id from ${source.chats.table} order by id limit 1`)
      ).rows;
      const migrating = runCli(['migrate', '--lock-timeout', '200'], t.url, envFor(source));
      let done = false;
      void migrating.then(() => {
        done = true;
      });
      let longest = 0;
      let writes = 0;
      while (!done) {
        const started = Date.now();
        await writer.query(
          source === OCS_PROFILE
            ? `insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
               values (now(), now(), 'human', 'hi', $1, '{}', '{}')`
            : `insert into chat_messages (chat_id, message_type, created_at) values ($1, 'human', now())`,
          [chat?.id],
        );
        longest = Math.max(longest, Date.now() - started);
        writes++;
      }
      const result = await migrating;
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(
        `could not lock "public"."${source.messages.table}" for capture triggers`,
      );
      expect(result.stderr).toContain(`session ${blockerPid} (long-report, idle in transaction for`);
      // Each attempt waits at most --lock-timeout for its lock; the writers queued behind it meanwhile.
      expect(writes).toBeGreaterThan(10);
      expect(longest).toBeLessThan(1_000);
    } finally {
      await blocker.query('rollback');
      await blocker.end();
      await writer.end();
    }
    expect((await runCli(['migrate'], t.url, envFor(source))).code).toBe(0);
  });
});
