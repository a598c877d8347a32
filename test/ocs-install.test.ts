/**
 * statcache on Open Chat Studio's tables as Django creates them (drizzle/demo/ocs-tables.sql): migrate adds
 * only what statcache owns, and rows written the way Django writes them (every NOT NULL column,
 * deferred foreign keys, cascades as separate statements, tag links through the generic table) end
 * exact after a refresh, by verify's recount and by the definitions in the README.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { migrate } from '../src/install/migrate.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { OCS_PROFILE } from '../src/source/builtin-profiles.js';
import { verify } from '../src/verify/verify.js';
import { OcsFixture } from './helpers/ocs-fixture.js';
import { EXCLUDED_PLATFORMS } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

let t: TestDatabase;
const f = new OcsFixture(() => t.db);
const source = OCS_PROFILE;

async function tables(): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    t.db,
    sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and c.relkind = 'r' order by 1`,
  );
  return rows.map((r) => r.name);
}

beforeAll(async () => {
  t = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  await client.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
  await client.end();
});
afterAll(async () => {
  await t?.drop();
});

const refresh = () =>
  refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 7,
    batchExperiments: 3,
    source,
  });
const expectExact = async () => {
  const result = await verify(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 3, source });
  expect(result.mismatches).toEqual([]);
  expect(result.pending).toEqual([]);
  return result;
};

describe('migrate under the ocs profile', () => {
  it("adds statcache's own tables, the versions column, missing indexes and triggers, and nothing else", async () => {
    const before = await tables();
    await migrate(t.db, { source });
    const added = (await tables()).filter((name) => !before.includes(name));
    expect(added.every((name) => name.startsWith('statcache_') || name.endsWith('_statistics_buckets'))).toBe(
      true,
    );
    expect(added).toContain('statcache_changes');
    // No demo table is invented.
    for (const demo of [
      'teams',
      'experiments',
      'experiment_sessions',
      'chat_messages',
      'tags',
      'chat_message_tags',
    ])
      expect(before.includes(demo) || !(await tables()).includes(demo)).toBe(true);
    const [column] = await queryRows<{ type: string; nullable: string; fallback: string }>(
      t.db,
      sql`select data_type as type, is_nullable as nullable, column_default as fallback from information_schema.columns
          where table_name = 'experiments_experimentsession' and column_name = 'cached_experiment_versions'`,
    );
    expect(column).toEqual({ type: 'ARRAY', nullable: 'NO', fallback: "'{}'::text[]" });
    const indexes = await queryRows<{ name: string; def: string }>(
      t.db,
      sql`select indexname as name, indexdef as def from pg_indexes where indexname like 'statcache_experiments%'`,
    );
    expect(indexes.map((i) => i.def)).toEqual([
      expect.stringMatching(
        /ON public\.experiments_experimentsession USING btree \(experiment_id, created_at\)$/,
      ),
    ]);
    const triggers = await queryRows<{ tbl: string; n: number }>(
      t.db,
      sql`select tgrelid::regclass::text as tbl, count(*)::int as n from pg_trigger
          where tgname like 'statcache_capture_%' group by 1 order by 1`,
    );
    expect(triggers).toEqual([
      { tbl: 'annotations_customtaggeditem', n: 4 },
      { tbl: 'annotations_tag', n: 2 },
      { tbl: 'chat_chatmessage', n: 4 },
      { tbl: 'experiments_experiment', n: 3 },
      { tbl: 'experiments_experimentsession', n: 4 },
    ]);
    // Running it again changes nothing.
    expect((await migrate(t.db, { source })).applied).toBe(0);
  });
});

describe('Django-style writes end exact', () => {
  let team: number;
  let botA: number;
  let versionA: number;
  let botB: number;
  let apiSession: { id: number; chatId: number };
  let evalSession: { id: number; chatId: number };
  let webSession: { id: number; chatId: number };

  beforeAll(async () => {
    const owner = await f.user();
    team = await f.team();
    botA = await f.experiment(team, owner, { name: 'A' });
    versionA = await f.experiment(team, owner, { versionOf: botA, name: 'A' });
    botB = await f.experiment(team, owner, { name: 'B' });
    const p1 = await f.participant(team);
    const p2 = await f.participant(team);
    apiSession = await f.session({
      teamId: team,
      experimentId: botA,
      participantId: p1,
      createdAt: '2026-06-01T10:00:00Z',
      platform: null,
    });
    evalSession = await f.session({
      teamId: team,
      experimentId: botA,
      participantId: p2,
      createdAt: '2026-06-01T11:00:00Z',
      platform: 'evaluations',
    });
    webSession = await f.session({
      teamId: team,
      experimentId: botB,
      participantId: p2,
      createdAt: '2026-06-02T09:00:00Z',
      platform: 'web',
    });
    const [, ai1, , ai2] = await f.messages(apiSession.chatId, [
      ['human', '2026-06-01T10:01:00Z'],
      ['ai', '2026-06-01T10:01:05Z'],
      ['human', '2026-06-01T12:30:00Z'],
      ['ai', '2026-06-01T12:30:05Z'],
    ]);
    await f.messages(evalSession.chatId, [['human', '2026-06-01T11:05:00Z']]);
    const [webHuman] = await f.messages(webSession.chatId, [
      ['human', '2026-06-02T09:10:00Z'],
      ['ai', '2026-06-02T09:10:02Z'],
    ]);
    const v10 = await f.tag(team, 'v10');
    const v2 = await f.tag(team, 'v2-unreleased');
    const topic = await f.tag(team, 'billing', 'topic');
    await f.link(team, v10, ai1 as number);
    await f.link(team, v2, ai2 as number);
    await f.link(team, topic, ai2 as number);
    // A chat-level link whose object id happens to be a message id: not a message tag.
    await f.link(team, v10, webHuman as number, 'chat');
  });

  it('the first refresh builds the cache: NULL platforms count, evaluations do not, a version row is no experiment', async () => {
    await refresh();
    await expectExact();
    const totals = await getExperimentTotals(t.db, [botA, versionA, botB], { source });
    expect(totals.get(botA)).toEqual({
      sessions: 1,
      participants: 1,
      humanMessages: 2,
      lastActivityAt: new Date('2026-06-01T12:30:00Z'),
    });
    expect(totals.get(versionA)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    expect(totals.get(botB)?.humanMessages).toBe(1);
    const page = await listExperiments(t.db, { teamId: team, source });
    expect(page.total).toBe(2);
    const sessions = await getSessionTotals(t.db, [apiSession.id, webSession.id], { source });
    expect(sessions.get(apiSession.id)?.experimentVersions).toEqual(['v2-unreleased', 'v10']);
    expect(sessions.get(webSession.id)?.experimentVersions).toEqual([]);
  });

  it('platform changes, a tag rename, a message deleted with its tag rows left, a session deleted children-last', async () => {
    await t.db.execute(
      sql`update experiments_experimentsession set platform = 'web' where id = ${apiSession.id}`,
    );
    await t.db.execute(
      sql`update experiments_experimentsession set platform = null where id = ${evalSession.id}`,
    );
    await t.db.execute(sql`update annotations_tag set name = 'v3' where name = 'v2-unreleased'`);
    await t.db.execute(
      sql`delete from chat_chatmessage where id = (select max(id) from chat_chatmessage where chat_id = ${apiSession.chatId} and message_type = 'ai')`,
    );
    await f.messages(apiSession.chatId, [['human', '2026-05-20T08:00:00Z']]);
    await f.deleteSession(webSession);
    const [pending] = await queryRows<{ n: unknown }>(t.db, sql`select count(*) as n from statcache_changes`);
    expect(toNumber(pending?.n)).toBeGreaterThan(0);
    await refresh();
    await expectExact();
    const totals = await getExperimentTotals(t.db, [botA, botB], { source });
    expect(totals.get(botA)).toMatchObject({ sessions: 2, participants: 2, humanMessages: 4 });
    expect(totals.get(botB)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    expect(
      (await getSessionTotals(t.db, [apiSession.id], { source })).get(apiSession.id)?.experimentVersions,
    ).toEqual(['v10']);
  });

  it('a link written before its tag in one transaction (foreign keys checked at commit) counts once the tag is there', async () => {
    const [ai] = await f.messages(apiSession.chatId, [['ai', '2026-06-01T12:31:00Z']]);
    await t.db.transaction(async (tx) => {
      const [next] = await queryRows<{ id: unknown }>(
        tx,
        sql`select coalesce(max(id), 0) + 1000 as id from annotations_tag`,
      );
      const tagId = toNumber(next?.id);
      await tx.execute(
        sql`insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
            values (${ai as number}, now(), now(),
                    (select id from django_content_type where app_label = 'chat' and model = 'chatmessage'), ${tagId}, ${team})`,
      );
      await tx.execute(
        sql`insert into annotations_tag (id, slug, created_at, updated_at, name, team_id, category, is_system_tag)
            values (${tagId}, 'v20-deferred', now(), now(), 'v20', ${team}, 'experiment_version', true)`,
      );
    });
    await refresh();
    await expectExact();
    expect(
      (await getSessionTotals(t.db, [apiSession.id], { source })).get(apiSession.id)?.experimentVersions,
    ).toEqual(['v10', 'v20']);
  });

  it("deleting an experiment with its version rows (Django's order) removes its numbers", async () => {
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`delete from chat_chatmessage where chat_id in (
        select chat_id from experiments_experimentsession where experiment_id = ${botA})`);
      await tx.execute(sql`delete from experiments_experimentsession where experiment_id = ${botA}`);
      await tx.execute(sql`delete from experiments_experiment where working_version_id = ${botA}`);
      await tx.execute(sql`delete from experiments_experiment where id = ${botA}`);
    });
    await refresh();
    await expectExact();
    expect((await getExperimentTotals(t.db, [botA], { source })).get(botA)?.sessions).toBe(0);
    expect((await listExperiments(t.db, { teamId: team, source })).total).toBe(1);
  });
});

describe('sessions that point at a published-version row (OCS before September 2024)', () => {
  let team: number;
  let botC: number;
  let botD: number;
  let versionC: number;
  let legacy: { id: number; chatId: number };

  beforeAll(async () => {
    const owner = await f.user();
    team = await f.team();
    botC = await f.experiment(team, owner, { name: 'C' });
    botD = await f.experiment(team, owner, { name: 'D' });
    versionC = await f.experiment(team, owner, { versionOf: botC, name: 'C' });
    const p = await f.participant(team);
    legacy = await f.session({
      teamId: team,
      experimentId: versionC,
      participantId: p,
      createdAt: '2024-05-01T10:00:00Z',
      platform: 'web',
    });
    await f.messages(legacy.chatId, [
      ['human', '2024-05-01T10:02:00Z'],
      ['ai', '2024-05-01T10:02:03Z'],
    ]);
    const modern = await f.session({
      teamId: team,
      experimentId: botC,
      participantId: p,
      createdAt: '2026-06-03T10:00:00Z',
      platform: 'web',
    });
    await f.messages(modern.chatId, [['human', '2026-06-03T10:01:00Z']]);
  });

  it("count under the version's working experiment, by the refresh, verify and the reads", async () => {
    await refresh();
    await expectExact();
    const totals = await getExperimentTotals(t.db, [botC, versionC, botD], { source });
    expect(totals.get(botC)).toEqual({
      sessions: 2,
      participants: 1,
      humanMessages: 2,
      lastActivityAt: new Date('2026-06-03T10:01:00Z'),
    });
    expect(totals.get(versionC)?.sessions).toBe(0);
    const page = await listSessions(t.db, { experimentId: botC, source });
    expect(page.rows.map((r) => r.sessionId)).toContain(legacy.id);
    expect(page.total).toBe(2);
  });

  it('follow the version row when it is re-pointed, and leave when deleted the Django way', async () => {
    await t.db.execute(
      sql`update experiments_experiment set working_version_id = ${botD} where id = ${versionC}`,
    );
    await refresh();
    await expectExact();
    let totals = await getExperimentTotals(t.db, [botC, botD], { source });
    expect(totals.get(botC)).toMatchObject({ sessions: 1, humanMessages: 1 });
    expect(totals.get(botD)).toMatchObject({ sessions: 1, humanMessages: 1, participants: 1 });
    await f.deleteSession(legacy);
    await refresh();
    await expectExact();
    totals = await getExperimentTotals(t.db, [botD], { source });
    expect(totals.get(botD)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
  });
});

describe('the seed under the ocs profile', () => {
  it("writes OCS's tables as Django would, and the cache built from them is exact", async () => {
    const seeded = await seedWorkload(t.db, { seed: 3, size: workloadSize(4_000), source });
    expect(seeded.tagLinks).toBeGreaterThan(0);
    const [shape] = await queryRows<{ versions: number; api: number; evaluations: number; links: number }>(
      t.db,
      sql`select (select count(*)::int from experiments_experiment e join teams_team tm on tm.id = e.team_id
                  where tm.slug like 'seed-3-%' and e.working_version_id is not null) as versions,
                 (select count(*)::int from experiments_experimentsession s join teams_team tm on tm.id = s.team_id
                  where tm.slug like 'seed-3-%' and s.platform is null) as api,
                 (select count(*)::int from experiments_experimentsession s join teams_team tm on tm.id = s.team_id
                  where tm.slug like 'seed-3-%' and s.platform = 'evaluations') as evaluations,
                 (select count(*)::int from annotations_customtaggeditem l join teams_team tm on tm.id = l.team_id
                  where tm.slug like 'seed-3-%') as links`,
    );
    expect(shape?.versions).toBe(seeded.experiments);
    expect(shape?.api).toBeGreaterThan(0);
    expect(shape?.evaluations).toBeGreaterThan(0);
    expect(shape?.links).toBe(seeded.tagLinks);
    // Every AI reply carries exactly one version tag (message content type), no other message one.
    const [tags] = await queryRows<{ ai: number; ai_tagged: number; other_tagged: number }>(
      t.db,
      sql`select count(*) filter (where m.message_type = 'ai')::int as ai,
                 count(*) filter (where m.message_type = 'ai' and v.n = 1)::int as ai_tagged,
                 count(*) filter (where m.message_type <> 'ai' and v.n > 0)::int as other_tagged
          from chat_chatmessage m
          join chat_chat c on c.id = m.chat_id join teams_team tm on tm.id = c.team_id
          cross join lateral (
            select count(*) as n from annotations_customtaggeditem l
            join annotations_tag g on g.id = l.tag_id
            join django_content_type ct on ct.id = l.content_type_id and ct.app_label = 'chat' and ct.model = 'chatmessage'
            where l.object_id = m.id and g.category = 'experiment_version') v
          where tm.slug like 'seed-3-%'`,
    );
    expect(tags?.ai).toBeGreaterThan(1_000);
    expect(tags?.ai_tagged).toBe(tags?.ai);
    expect(tags?.other_tagged).toBe(0);
    await refresh();
    const result = await expectExact();
    expect(result.checked.sessions).toBeGreaterThanOrEqual(seeded.sessions);
    await expect(seedWorkload(t.db, { seed: 3, size: workloadSize(4_000), source })).rejects.toThrow(
      'seed 3 is already loaded in this database',
    );
  });
});
