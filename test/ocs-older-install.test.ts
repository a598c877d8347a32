/**
 * statcache on an Open Chat Studio database as an older production install looks
 * (helpers/ocs-older-schema.ts): serial-style ids, int4 ids on teams and messages, the
 * `(chat_id, message_type, created_at)` index missing (only a partial and a hash index an operator
 * added), other index names, legacy columns and
 * content-type ids far from a fresh install's. migrate adds the missing index and nothing of the
 * platform's otherwise; the seed, the full rebuild, Django-style writes and the incremental refresh
 * end equal to a live recount by the README's definitions.
 */
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { migrate } from '../src/install/migrate.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { OCS_PROFILE } from '../src/source/builtin-profiles.js';
import { checkSource } from '../src/source/check-source.js';
import { verify } from '../src/verify/verify.js';
import { OcsFixture, recountOcsExperiments, recountOcsSessions } from './helpers/ocs-fixture.js';
import { MISSING_INDEX, olderOcsSchema, SHIFTED_CONTENT_TYPES } from './helpers/ocs-older-schema.js';
import { EXCLUDED_PLATFORMS } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';

let t: TestDatabase;
const f = new OcsFixture(() => t.db);
const source = OCS_PROFILE;

beforeAll(async () => {
  t = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  await client.query(olderOcsSchema());
  await client.end();
});
afterAll(async () => {
  await t?.drop();
});

/** Every cached experiment and session number equals the live recount from OCS's tables. */
async function expectCacheEqualsRecount(): Promise<void> {
  const { mismatches, pending } = await verify(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: 4,
    source,
  });
  expect(mismatches).toEqual([]);
  expect(pending).toEqual([]);
  const experiments = await recountOcsExperiments(t.db, EXCLUDED_PLATFORMS);
  const cached = await getExperimentTotals(t.db, [...experiments.keys()], { source });
  expect(Object.fromEntries(cached)).toEqual(Object.fromEntries(experiments));
  const sessions = await recountOcsSessions(t.db);
  const cachedSessions = await getSessionTotals(t.db, [...sessions.keys()], { source });
  expect(Object.fromEntries(cachedSessions)).toEqual(Object.fromEntries(sessions));
  expect(experiments.size).toBeGreaterThan(0);
  expect(sessions.size).toBeGreaterThan(0);
}

describe('an older OCS install', () => {
  it('passes the profile check as it is; migrate adds the missing message index and no other of the platform', async () => {
    const before = await checkSource(t.db, source);
    expect(before.ok).toBe(true);
    // The ids the older install keeps in int4 are usable ids.
    expect(before.columns.find((c) => c.key === 'messages.id')).toMatchObject({
      type: 'integer',
      status: 'ok',
    });
    expect(before.contentType?.id).toBeGreaterThan(SHIFTED_CONTENT_TYPES);
    // Neither the partial index nor the hash index an operator once added serves.
    const messagesIndex = before.indexes.find((i) => i.columns.join() === 'chat_id,message_type,created_at');
    expect(messagesIndex?.index).toBeNull();
    await migrate(t.db, { source });
    const added = await queryRows<{ def: string }>(
      t.db,
      sql`select indexdef as def from pg_indexes where tablename = 'chat_chatmessage' and indexname like 'statcache_%'`,
    );
    expect(added.map((i) => i.def)).toEqual([
      expect.stringMatching(/ON public\.chat_chatmessage USING btree \(chat_id, message_type, created_at\)$/),
    ]);
    const after = await checkSource(t.db, source);
    expect(after.indexes.every((i) => i.index !== null)).toBe(true);
    expect(after.indexes.find((i) => i.columns.join() === 'chat_id,message_type,created_at')?.index).not.toBe(
      MISSING_INDEX,
    );
  });

  it('the seed, a full rebuild and the reads equal a live recount', async () => {
    const seeded = await seedWorkload(t.db, { seed: 5, size: workloadSize(3_000), source });
    expect(seeded.tagLinks).toBeGreaterThan(0);
    await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 4, source });
    await expectCacheEqualsRecount();
  });

  it('Django-style writes after install end exact by the incremental refresh', async () => {
    const owner = await f.user();
    const team = await f.team();
    const bot = await f.experiment(team, owner);
    const version = await f.experiment(team, owner, { versionOf: bot });
    const participant = await f.participant(team);
    const api = await f.session({
      teamId: team,
      experimentId: bot,
      participantId: participant,
      createdAt: '2026-10-30T08:00:00Z',
      platform: null,
    });
    const old = await f.session({
      teamId: team,
      experimentId: version,
      participantId: participant,
      createdAt: '2026-10-30T09:00:00Z',
      platform: 'web',
    });
    const [human, ai] = await f.messages(api.chatId, [
      ['human', '2026-10-30T08:01:00Z'],
      ['ai', '2026-10-30T08:01:02Z'],
    ]);
    await f.messages(old.chatId, [['human', '2026-10-29T23:59:00Z']]);
    const v4 = await f.tag(team, 'v4');
    await f.link(team, v4, ai as number);
    await f.link(team, v4, human as number, 'chat');
    // A seeded message's late delete (its tag rows stay behind) and a seeded session deleted children-last.
    const [seeded] = await queryRows<{ id: unknown; chat_id: unknown }>(
      t.db,
      sql`select id, chat_id from experiments_experimentsession where team_id <> ${team} order by id limit 1`,
    );
    await t.db.execute(
      sql`delete from chat_chatmessage where id = (select min(object_id) from annotations_customtaggeditem)`,
    );
    await f.deleteSession({ id: toNumber(seeded?.id), chatId: toNumber(seeded?.chat_id) });
    await t.db.execute(
      sql`update experiments_experimentsession set platform = 'evaluations' where id = ${api.id}`,
    );
    await refreshIncremental(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchChanges: 50,
      batchExperiments: 4,
      source,
    });
    await expectCacheEqualsRecount();
    expect((await getSessionTotals(t.db, [api.id], { source })).get(api.id)?.experimentVersions).toEqual([
      'v4',
    ]);
  });

  it('an experiment made a version of another reads as zeros after the refresh, its sessions counted under the other', async () => {
    const recount = await recountOcsExperiments(t.db, EXCLUDED_PLATFORMS);
    const [busy, other] = [...recount.entries()].filter(([, r]) => r.sessions > 0).map(([id]) => id);
    await t.db.execute(
      sql`update experiments_experiment set working_version_id = ${other} where id = ${busy}`,
    );
    await refreshIncremental(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchChanges: 50,
      batchExperiments: 4,
      source,
    });
    const totals = await getExperimentTotals(t.db, [busy as number, other as number], { source });
    expect(totals.get(busy as number)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    expect(totals.get(other as number)?.sessions).toBe(
      (recount.get(busy as number)?.sessions ?? 0) + (recount.get(other as number)?.sessions ?? 0),
    );
    await expectCacheEqualsRecount();
  });
});
