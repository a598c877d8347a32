/**
 * migrate: on an empty database it creates everything; on a chat platform's existing database it
 * adds only statcache's parts and touches no data; several processes at once apply each migration once.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { afterEach, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { createDemoTables } from '../src/install/install-source.js';
import { MIGRATIONS_TABLE, migrate } from '../src/install/migrate.js';
import { expectedMigrations, migrationsFolder } from '../src/install/migrations-folder.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import { runCli } from './helpers/cli.js';
import { EXCLUDED_PLATFORMS, expectCacheExact } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

const created: TestDatabase[] = [];
afterEach(async () => {
  for (const t of created.splice(0)) await t.drop();
});
async function emptyDatabase(): Promise<TestDatabase> {
  const t = await createEmptyDatabase();
  created.push(t);
  return t;
}

it('three processes migrating an empty database at once all succeed and apply each migration once', async () => {
  const t = await emptyDatabase();
  const results = await Promise.all(
    [1, 2, 3].map(() => runCli(['migrate', '--create-source-tables', '--json'], t.url)),
  );
  for (const r of results) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  const applied = results.map((r) => JSON.parse(r.stdout).applied as number).sort();
  const total = expectedMigrations().length;
  expect(applied).toEqual([0, 0, total]);
  const [row] = await queryRows<{ n: unknown }>(t.db, sql`select count(*) as n from statcache_migrations`);
  expect(toNumber(row?.n)).toBe(total);
  expect(await migrate(t.db)).toEqual({ applied: 0, total });
  // Once the tables exist, a plain migrate finds the profile satisfied.
  expect((await runCli(['migrate'], t.url)).code).toBe(0);
});

it('never invents the source tables: on an empty database it exits 2 naming them and writes nothing', async () => {
  const t = await emptyDatabase();
  const r = await runCli(['migrate'], t.url);
  expect(r.code).toBe(2);
  expect(r.stderr.trim()).toBe(
    'statcache: the database does not match source profile statcache: missing tables teams, experiments, ' +
      'participants, chats, experiment_sessions, chat_messages, tags, chat_message_tags; run `statcache source` for ' +
      "details, set STATCACHE_SOURCE to your platform's profile, or create statcache's demo tables with " +
      '`statcache migrate --create-source-tables`',
  );
  const [row] = await queryRows<{ n: unknown }>(
    t.db,
    sql`select count(*) as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public'`,
  );
  expect(toNumber(row?.n)).toBe(0);
  await expect(migrate(t.db)).rejects.toThrow('the database does not match source profile statcache');
});

it('names a missing column of an existing table, and refuses --create-source-tables for another profile', async () => {
  const t = await emptyDatabase();
  await migrate(t.db, { createSourceTables: true });
  await t.db.execute(sql`alter table chat_messages rename column message_type to kind`);
  const r = await runCli(['migrate'], t.url);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    'the database does not match source profile statcache: missing columns chat_messages.message_type (messages.type);',
  );
  const custom = { ...STATCACHE_PROFILE, name: 'custom', origin: '/tmp/custom.json' };
  await expect(migrate(t.db, { source: custom, createSourceTables: true })).rejects.toThrow(
    '--create-source-tables creates the demo tables of the built-in profiles only, not those of source profile custom',
  );
  // OCS's schema is built only where none of it exists: this database has the demo tables, not OCS's.
  const ocs = await emptyDatabase();
  await ocs.db.execute(sql`create table teams_team (id bigint primary key)`);
  await expect(migrate(ocs.db, { source: OCS_PROFILE, createSourceTables: true })).rejects.toThrow(
    "--create-source-tables builds ocs's schema only on a database without it, and this one has part of it",
  );
});

it('adds only what statcache owns to an existing chat database, touching no data', async () => {
  const t = await emptyDatabase();
  // A chat platform's own schema: extra columns, its own index names, no statcache parts.
  await t.db.execute(
    sql.raw(`
    create table teams (id bigserial primary key, slug text unique, created_at timestamptz not null default now(), plan text);
    create table experiments (id bigserial primary key, team_id bigint not null references teams, name text not null,
                              created_at timestamptz not null default now(), description text default 'x');
    create table participants (id bigserial primary key, team_id bigint not null references teams, identifier text not null,
                               platform text not null default 'web', created_at timestamptz not null default now(),
                               unique (team_id, platform, identifier));
    create table chats (id bigserial primary key, team_id bigint not null references teams, created_at timestamptz not null default now());
    create table experiment_sessions (id bigserial primary key, team_id bigint not null references teams,
      experiment_id bigint not null references experiments on delete cascade,
      participant_id bigint references participants on delete set null, chat_id bigint not null unique references chats on delete cascade,
      platform text not null default 'web', created_at timestamptz not null default now(), external_id text);
    create table chat_messages (id bigserial primary key, chat_id bigint not null references chats on delete cascade,
      message_type text not null check (message_type in ('human','ai','system')), content text default '',
      created_at timestamptz not null default now());
    create index platform_own_messages_idx on chat_messages (chat_id);
    create table tags (id bigserial primary key, team_id bigint not null references teams, name text not null,
                       category text not null default '', unique (team_id, name, category));
    create table chat_message_tags (message_id bigint references chat_messages on delete cascade,
                                    tag_id bigint references tags on delete cascade, primary key (message_id, tag_id));
    insert into teams (slug, plan) values ('acme', 'pro');
    insert into experiments (team_id, name) values (1, 'Helpdesk');
    insert into participants (team_id, identifier) values (1, 'ana@example.com');
    insert into chats (team_id) values (1);
    insert into experiment_sessions (team_id, experiment_id, participant_id, chat_id, created_at, external_id)
      values (1, 1, 1, 1, '2026-04-01T09:00:00Z', 'ext-1');
    insert into chat_messages (chat_id, message_type, content, created_at)
      values (1, 'human', 'hello', '2026-04-01T09:01:00Z'), (1, 'ai', 'hi', '2026-04-01T09:01:01Z');
    insert into tags (team_id, name, category) values (1, 'v7', 'experiment_version');
    insert into chat_message_tags values (2, 1);
  `),
  );
  const fingerprint = sql`select md5(concat(
      (select string_agg(t::text, ',' order by id) from teams t), (select string_agg(e::text, ',' order by id) from experiments e),
      (select string_agg(p::text, ',' order by id) from participants p), (select string_agg(c::text, ',' order by id) from chats c),
      (select string_agg(concat_ws('|', s.id, s.team_id, s.experiment_id, s.participant_id, s.chat_id, s.platform, s.created_at, s.external_id), ',' order by id) from experiment_sessions s),
      (select string_agg(m::text, ',' order by id) from chat_messages m), (select string_agg(g::text, ',' order by id) from tags g),
      (select string_agg(mt::text, ',' order by message_id) from chat_message_tags mt))) as f`;
  const [before] = await queryRows<{ f: string }>(t.db, fingerprint);

  const migrated = await runCli(['migrate'], t.url);
  expect(migrated).toMatchObject({ code: 0, stderr: '' });
  const [after] = await queryRows<{ f: string }>(t.db, fingerprint);
  expect(after?.f).toBe(before?.f);
  const [shape] = await queryRows<{ extra: unknown; versions: unknown; buckets: unknown }>(
    t.db,
    sql`select (select count(*) from information_schema.columns where table_name = 'experiments' and column_name = 'description') as extra,
               (select count(*) from information_schema.columns where table_name = 'experiment_sessions' and column_name = 'cached_experiment_versions') as versions,
               (select count(*) from information_schema.tables where table_name in ('experiment_statistics_buckets', 'session_statistics_buckets')) as buckets`,
  );
  expect({
    extra: toNumber(shape?.extra),
    versions: toNumber(shape?.versions),
    buckets: toNumber(shape?.buckets),
  }).toEqual({
    extra: 1,
    versions: 1,
    buckets: 2,
  });

  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 50 });
  expect((await getSessionTotals(t.db, [1])).get(1)).toEqual({
    humanMessages: 1,
    lastActivityAt: new Date('2026-04-01T09:01:00Z'),
    experimentVersions: ['v7'],
  });
  await expectCacheExact(t.db);
});

/** Applies the migrations as the folder stood before `tag`: a copy with the journal cut there. */
async function migrateUpTo(t: TestDatabase, tag: string, index: number): Promise<void> {
  const old = await mkdtemp(join(tmpdir(), 'statcache-migrations-'));
  try {
    await cp(migrationsFolder(), old, { recursive: true });
    const journalPath = join(old, 'meta', '_journal.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
    expect(journal.entries.findIndex((e) => e.tag === tag)).toBe(index);
    journal.entries = journal.entries.slice(0, index);
    await writeFile(journalPath, JSON.stringify(journal));
    // Caches built by older releases sat on the demo tables, which migration 0000 created back then.
    await createDemoTables(t.db);
    await migrateNodePg(t.db, { migrationsFolder: old, ...MIGRATIONS_TABLE });
  } finally {
    await rm(old, { recursive: true, force: true });
  }
}

it('upgrading a cache built before the totals table fills the table from the stored buckets', async () => {
  const t = await emptyDatabase();
  await migrateUpTo(t, '0004_experiment_totals', 4);
  // Built: its first full rebuild is on record, as on every install whose buckets a refresh wrote.
  await t.db.execute(sql`insert into statcache_refresh_runs
      (mode, experiment_ids, started_at, experiments, experiment_buckets, session_buckets, versions_updated)
    values ('full', null, now(), 3, 4, 0, 0);
    insert into teams (id) values (1);
    insert into experiments (id, team_id) values (1, 1), (2, 1), (3, 1);
    insert into experiment_statistics_buckets
      (team_id, experiment_id, bucket_size, bucket_start, bucket_end, session_count, new_participant_count, human_message_count, last_activity_at)
    values (1, 1, 'hour', '2026-04-01T09:00:00Z', '2026-04-01T10:00:00Z', 2, 1, 5, '2026-04-01T09:40:00Z'),
           (1, 1, 'day', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 3, 2, 7, '2026-03-01T18:00:00Z'),
           (1, 1, 'month', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z', 4, 0, 1, '2026-01-09T00:00:00Z'),
           (1, 2, 'hour', '2026-04-02T09:00:00Z', '2026-04-02T10:00:00Z', 1, 1, 0, null)`);
  expect(await migrate(t.db)).toEqual({
    applied: expectedMigrations().length - 4,
    total: expectedMigrations().length,
  });
  const totals = await getExperimentTotals(t.db, [1, 2, 3]);
  expect([...totals]).toEqual([
    [
      1,
      { sessions: 9, participants: 3, humanMessages: 13, lastActivityAt: new Date('2026-04-01T09:40:00Z') },
    ],
    [2, { sessions: 1, participants: 1, humanMessages: 0, lastActivityAt: null }],
    [3, { sessions: 0, participants: 0, humanMessages: 0, lastActivityAt: null }],
  ]);
});

it('upgrading a cache built before 0006 files each session bucket under its platform and drops buckets of sessions gone', async () => {
  const t = await emptyDatabase();
  await migrateUpTo(t, '0006_session_bucket_platform', 6);
  await t.db.execute(sql`insert into teams (id) values (1);
    insert into experiments (id, team_id) values (1, 1);
    insert into chats (id, team_id) values (1, 1), (2, 1);
    insert into experiment_sessions (id, team_id, experiment_id, chat_id, platform, created_at)
    values (1, 1, 1, 1, 'web', '2026-04-01T09:00:00Z'), (2, 1, 1, 2, 'evaluations', '2026-04-01T09:00:00Z');
    insert into session_statistics_buckets
      (team_id, experiment_id, session_id, bucket_size, bucket_start, bucket_end, human_message_count, last_activity_at)
    values (1, 1, 1, 'hour', '2026-04-01T09:00:00Z', '2026-04-01T10:00:00Z', 2, '2026-04-01T09:40:00Z'),
           (1, 1, 1, 'day', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 3, '2026-03-01T18:00:00Z'),
           (1, 1, 2, 'hour', '2026-04-01T09:00:00Z', '2026-04-01T10:00:00Z', 1, '2026-04-01T09:10:00Z'),
           (1, 1, 99, 'hour', '2026-04-01T09:00:00Z', '2026-04-01T10:00:00Z', 4, '2026-04-01T09:20:00Z')`);
  expect(await migrate(t.db)).toEqual({
    applied: expectedMigrations().length - 6,
    total: expectedMigrations().length,
  });
  const rows = await queryRows<{ session_id: unknown; bucket_size: string; platform: string }>(
    t.db,
    sql`select session_id, bucket_size, platform from session_statistics_buckets order by session_id, bucket_size`,
  );
  expect(rows.map((r) => [toNumber(r.session_id), r.bucket_size, r.platform])).toEqual([
    [1, 'day', 'web'],
    [1, 'hour', 'web'],
    [2, 'hour', 'evaluations'],
  ]);
  // No default is left behind (0006 dropped its backfill default; 0007 lets a session without a
  // platform, which some source profiles allow, be filed as NULL).
  const [column] = await queryRows<{ column_default: string | null; is_nullable: string }>(
    t.db,
    sql`select column_default, is_nullable from information_schema.columns
        where table_name = 'session_statistics_buckets' and column_name = 'platform'`,
  );
  expect(column).toEqual({ column_default: null, is_nullable: 'YES' });
});
