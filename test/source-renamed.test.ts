/**
 * Profile-driven SQL on a schema statcache did not name: the demo tables renamed, with names that
 * need quoting (upper case, spaces), described by a profile. The full rebuild, verify and every read
 * helper under that profile give exactly what they give under the statcache profile before the rename,
 * and the capture triggers generated for it feed an exact incremental refresh.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/types.js';
import { installSource } from '../src/install/install-source.js';
import { getExperimentSeries } from '../src/read/get-experiment-series.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';
import { verify } from '../src/verify/verify.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase();
const RANGE = { from: new Date('2020-01-01T00:00:00Z'), to: new Date('2030-01-01T00:00:00Z') };

/** The demo schema after the renames below. */
const RENAMED: SourceProfile = {
  name: 'renamed',
  origin: 'test',
  schema: 'public',
  teams: { table: 'Org Team', id: 'id' },
  experiments: { table: 'Bot', id: 'id', teamId: 'owner team', name: 'Title', versionOf: undefined },
  participants: { table: 'participants', id: 'id', identifier: 'handle' },
  chats: { table: 'chats', id: 'id', teamId: 'team_id' },
  sessions: {
    table: 'Conversation',
    id: 'id',
    teamId: 'team_id',
    experimentId: 'bot id',
    participantId: 'participant_id',
    chatId: 'chat_id',
    platform: 'Channel',
    platformNullable: false,
    createdAt: 'started at',
    versionsCache: 'cached_experiment_versions',
  },
  messages: { table: 'Chat Message', id: 'id', chatId: 'chat_id', type: 'Kind', createdAt: 'sent at' },
  tags: { table: 'Tag "Labels"', id: 'id', name: 'name', category: 'group' },
  tagLinks: { table: 'message tag', tagId: 'tag_id', messageId: 'msg' },
};

/** Every read the dashboard makes, for every experiment and session. */
async function readAll(source: SourceProfile) {
  const experiments = await listExperiments(t.db, {
    sortBy: 'humanMessages',
    order: 'desc',
    limit: 1000,
    source,
  });
  const ids = experiments.rows.map((r) => r.experimentId);
  const busiest = ids[0] as number;
  const sessions = await listSessions(t.db, { experimentId: busiest, limit: 1000, source });
  const sessionIds = sessions.rows.map((r) => r.sessionId);
  // Both reads are cached with nothing pending; only when the cache was brought up to date differs.
  const { freshness: e, ...experimentsPage } = experiments;
  const { freshness: s, ...sessionsPage } = sessions;
  expect([e.mode, e.pendingChanges, s.mode, s.pendingChanges]).toEqual(['cached', 0, 'cached', 0]);
  return {
    experiments: experimentsPage,
    sessions: sessionsPage,
    totals: [...(await getExperimentTotals(t.db, ids, { source }))],
    sessionTotals: [...(await getSessionTotals(t.db, sessionIds, { source }))],
    series: [...(await getExperimentSeries(t.db, ids.slice(0, 10), { ...RANGE, source }))],
  };
}

let before: Awaited<ReturnType<typeof readAll>>;

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 7, size: workloadSize(5_000) });
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 7 });
  await expectCacheExact(t.db);
  before = await readAll(STATCACHE_PROFILE);
  // Rename (the capture triggers stay attached; their functions still name the demo tables until
  // installSource generates them for the new names), then empty the cache.
  await t.db.execute(
    sql.raw(`
    alter table teams rename to "Org Team";
    alter table experiments rename to "Bot";
    alter table "Bot" rename column team_id to "owner team";
    alter table "Bot" rename column name to "Title";
    alter table participants rename column identifier to handle;
    alter table experiment_sessions rename to "Conversation";
    alter table "Conversation" rename column experiment_id to "bot id";
    alter table "Conversation" rename column platform to "Channel";
    alter table "Conversation" rename column created_at to "started at";
    alter table chat_messages rename to "Chat Message";
    alter table "Chat Message" rename column message_type to "Kind";
    alter table "Chat Message" rename column created_at to "sent at";
    alter table tags rename column category to "group";
    alter table tags rename to "Tag ""Labels""";
    alter table chat_message_tags rename to "message tag";
    alter table "message tag" rename column message_id to msg;`),
  );
  await installSource(t.db, RENAMED);
  await t.db.execute(
    sql.raw(`
    update "Conversation" set cached_experiment_versions = '{}';
    delete from experiment_statistics_buckets; delete from session_statistics_buckets;
    delete from statcache_experiment_totals; delete from statcache_experiment_participants;
    delete from statcache_changes;`),
  );
});

describe('a renamed schema described by a profile', () => {
  it('the full rebuild under the profile is exact by verify under the profile', async () => {
    await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 7, source: RENAMED });
    const result = await verify(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchExperiments: 7,
      source: RENAMED,
    });
    expect(result.mismatches).toEqual([]);
    expect(result.pending).toEqual([]);
    expect(result.checked.experiments).toBe(before.experiments.total);
  });

  it('every read helper answers what it answered before the rename', async () => {
    expect(await readAll(RENAMED)).toEqual(before);
  });

  it('the capture triggers generated for the profile feed an exact incremental refresh', async () => {
    const [session] = await queryRows<{ chat: number }>(
      t.db,
      sql`select chat_id as chat from "Conversation" order by id limit 1`,
    );
    await t.db.execute(
      sql.raw(`
      insert into "Chat Message" (chat_id, "Kind", "sent at")
        values (${session?.chat}, 'human', '2026-03-01T10:15:00Z'), (${session?.chat}, 'human', '2026-01-05T08:00:00Z');
      update "Chat Message" set "Kind" = 'ai' where id = (select min(id) from "Chat Message" where "Kind" = 'human');
      update "Conversation" set "Channel" = 'evaluations' where id = (select max(id) from "Conversation");
      update "Tag ""Labels""" set name = name || '-renamed' where "group" = 'experiment_version';
      delete from "Chat Message" where id = (
        select max(id) from "Chat Message" where "Kind" = 'human' and chat_id <> ${session?.chat});`),
    );
    const [pending] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from statcache_changes`,
    );
    expect(pending?.n).toBeGreaterThan(0);
    await refreshIncremental(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchChanges: 5,
      batchExperiments: 7,
      source: RENAMED,
    });
    const result = await verify(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchExperiments: 7,
      source: RENAMED,
    });
    expect(result.mismatches).toEqual([]);
    expect(result.pending).toEqual([]);
    const [renamed] = await queryRows<{ n: number }>(
      t.db,
      sql`select count(*)::int as n from "Conversation"
          where exists (select 1 from unnest(cached_experiment_versions) v where v like '%-renamed')`,
    );
    expect(renamed?.n).toBeGreaterThan(0);
  });
});
