/**
 * Keys that add rather than recount. Versions from new tag links: a new link queues the tag and its
 * message (not a recount of the chat), the refresh adds the tag's name to the stored versions once
 * it has checked that link still stands, and recounts the chat from its messages when it does not;
 * a session created before its chat has messages queues no versions recount at all. Participants'
 * first sessions: a new session's key names it, and the refresh takes its instant if it is earlier
 * than the stored first, once it has checked the session still counts there. Each case ends equal
 * to a live recount (verify) with nothing pending.
 */
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { getStatus } from '../src/status/get-status.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ built: true });
const f = t.fixture;
let teamId: number;
let exp: number;

beforeEach(async () => {
  teamId = await f.team();
  exp = await f.experiment(teamId);
});

const refresh = () =>
  refreshIncremental(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchChanges: 50, batchExperiments: 10 });

async function expectExactAfterRefresh() {
  await refresh();
  await expectCacheExact(t.db);
  expect((await getStatus(t.db)).pending.count).toBe(0);
}

const versions = async (session: number) =>
  (await getSessionTotals(t.db, [session])).get(session)?.experimentVersions;

/** The queued `chat_versions` keys of a chat: [message_id, tag_id] each (nulls: a recount). */
async function versionKeys(chatId: number): Promise<[number | null, number | null][]> {
  const rows = await queryRows<{ message_id: unknown; tag_id: unknown }>(
    t.db,
    sql`select message_id, tag_id from statcache_changes where kind = 'chat_versions' and chat_id = ${chatId}
        order by id`,
  );
  return rows.map((r) => [
    r.message_id === null ? null : toNumber(r.message_id),
    r.tag_id === null ? null : toNumber(r.tag_id),
  ]);
}

/** The first counted session instant of a participant in an experiment, as stored. */
async function storedFirst(experiment: number, participant: number): Promise<string | null> {
  const [row] = await queryRows<{ at: unknown }>(
    t.db,
    sql`select first_session_at as at from statcache_experiment_participants
        where experiment_id = ${experiment} and participant_id = ${participant}`,
  );
  return row ? new Date(row.at as string).toISOString() : null;
}

/** Runs `query` without firing the capture triggers: a change statcache never hears of. */
async function uncaptured(query: ReturnType<typeof sql>) {
  await t.db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(query);
  });
}

describe('added version tags', () => {
  it('a session created before its messages queues no recount; added tags join its versions in natural order', async () => {
    const s = await f.session({ teamId, experimentId: exp, createdAt: '2026-05-10T10:00:00Z' });
    expect(await versionKeys(s.chatId)).toEqual([]);
    const [m1, m2, m3] = await f.messages(s.chatId, [
      ['ai', '2026-05-10T10:01:00Z'],
      ['ai', '2026-05-10T10:02:00Z'],
      ['ai', '2026-05-10T10:03:00Z'],
    ]);
    const v10 = await f.tag(teamId, 'v10');
    const v2 = await f.tag(teamId, 'v2');
    const topic = await f.tag(teamId, 'greeting', 'topic');
    await f.tagMessage(m1 as number, v10);
    await f.tagMessage(m3 as number, topic);
    // One key per (chat, version tag), naming the message that carries it; none for other tags.
    expect(await versionKeys(s.chatId)).toEqual([[m1 as number, v10]]);
    await expectExactAfterRefresh();
    expect(await versions(s.id)).toEqual(['v10']);
    await f.tagMessage(m2 as number, v2);
    await f.tagMessage(m3 as number, v10);
    await expectExactAfterRefresh();
    expect(await versions(s.id)).toEqual(['v2', 'v10']);
  });

  it('a session created on a chat that has messages, or with versions cached, queues a recount', async () => {
    const s = await f.session({ teamId, experimentId: exp, createdAt: '2026-05-10T10:00:00Z' });
    const [m1] = await f.messages(s.chatId, [['ai', '2026-05-10T10:01:00Z']]);
    const v1 = await f.tag(teamId, 'v1');
    await f.tagMessage(m1 as number, v1);
    await expectExactAfterRefresh();
    // The chat gets a new session row: that row must be counted from the chat's messages.
    await t.db.execute(sql`delete from experiment_sessions where id = ${s.id}`);
    await expectExactAfterRefresh();
    const [moved] = await queryRows<{ id: unknown }>(
      t.db,
      sql`insert into experiment_sessions (team_id, experiment_id, chat_id, platform, created_at)
          values (${teamId}, ${exp}, ${s.chatId}, 'web', '2026-05-10T10:00:00Z') returning id`,
    );
    expect(await versionKeys(s.chatId)).toContainEqual([null, null]);
    await expectExactAfterRefresh();
    expect(await versions(toNumber(moved?.id))).toEqual(['v1']);
    // A new session row whose cache a writer filled in, on a chat without messages.
    const empty = await f.session({ teamId, experimentId: exp, createdAt: '2026-05-10T11:00:00Z' });
    await expectExactAfterRefresh();
    await t.db.execute(sql`delete from experiment_sessions where id = ${empty.id}`);
    await expectExactAfterRefresh();
    await t.db.execute(sql`insert into experiment_sessions (team_id, experiment_id, chat_id, platform, created_at, cached_experiment_versions)
        values (${teamId}, ${exp}, ${empty.chatId}, 'web', '2026-05-10T11:00:00Z', '{v9}')`);
    expect(await versionKeys(empty.chatId)).toContainEqual([null, null]);
    await expectExactAfterRefresh();
  });

  it('an added tag whose link is gone, or whose message left the chat, is recounted, not added', async () => {
    const s = await f.session({ teamId, experimentId: exp, createdAt: '2026-05-10T10:00:00Z' });
    const [bare] = await queryRows<{ id: unknown }>(
      t.db,
      sql`insert into chats (team_id, created_at) values (${teamId}, '2026-05-10T10:00:00Z') returning id`,
    );
    const [m1, m2] = await f.messages(s.chatId, [
      ['ai', '2026-05-10T10:01:00Z'],
      ['ai', '2026-05-10T10:02:00Z'],
    ]);
    const v1 = await f.tag(teamId, 'v1');
    const v2 = await f.tag(teamId, 'v2');
    await expectExactAfterRefresh();
    // Queued as added, then undone where statcache cannot see it: only the check catches it.
    await f.tagMessage(m1 as number, v1);
    await uncaptured(sql`delete from chat_message_tags where message_id = ${m1}`);
    await expectExactAfterRefresh();
    expect(await versions(s.id)).toEqual([]);
    await f.tagMessage(m2 as number, v2);
    // To a chat no session holds, so no other cache is left stale by the uncaptured move.
    await uncaptured(sql`update chat_messages set chat_id = ${toNumber(bare?.id)} where id = ${m2}`);
    await expectExactAfterRefresh();
    expect(await versions(s.id)).toEqual([]);
  });
});

describe("added sessions' participants", () => {
  it("a new session's key names it; an earlier one becomes the participant's first, a later one does not", async () => {
    const p = await f.participant(teamId);
    await f.session({ teamId, experimentId: exp, participantId: p, createdAt: '2026-05-10T10:00:00Z' });
    await expectExactAfterRefresh();
    const later = await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-10T12:00:00Z',
    });
    const keys = await queryRows<{ session_id: unknown }>(
      t.db,
      sql`select session_id from statcache_changes where kind = 'participant' and participant_id = ${p}`,
    );
    expect(keys.map((k) => toNumber(k.session_id))).toEqual([later.id]);
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, p)).toBe('2026-05-10T10:00:00.000Z');
    await f.session({ teamId, experimentId: exp, participantId: p, createdAt: '2026-05-10T08:00:00Z' });
    await f.session({ teamId, experimentId: exp, participantId: p, createdAt: '2026-05-10T09:00:00Z' });
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, p)).toBe('2026-05-10T08:00:00.000Z');
    // A new pair: its first is its new session.
    const q = await f.participant(teamId);
    await f.session({ teamId, experimentId: exp, participantId: q, createdAt: '2026-05-10T07:00:00Z' });
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, q)).toBe('2026-05-10T07:00:00.000Z');
  });

  it('a new session gone or moved before the refresh, or on an excluded platform, is recounted, not taken', async () => {
    const p = await f.participant(teamId);
    await f.session({ teamId, experimentId: exp, participantId: p, createdAt: '2026-05-10T10:00:00Z' });
    await expectExactAfterRefresh();
    const gone = await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-10T08:00:00Z',
    });
    await uncaptured(sql`delete from experiment_sessions where id = ${gone.id}`);
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, p)).toBe('2026-05-10T10:00:00.000Z');
    const other = await f.experiment(teamId);
    const moved = await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-10T07:00:00Z',
    });
    await uncaptured(sql`update experiment_sessions set experiment_id = ${other} where id = ${moved.id}`);
    // The move was not captured, so the other experiment's buckets never heard of the session:
    // refresh it as a whole (an experiment key), which also recounts its participants.
    await t.db.execute(
      sql`insert into statcache_changes (kind, experiment_id) values ('experiment', ${other})`,
    );
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, p)).toBe('2026-05-10T10:00:00.000Z');
    await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-10T06:00:00Z',
      platform: EXCLUDED_PLATFORMS[0] as string,
    });
    await expectExactAfterRefresh();
    expect(await storedFirst(exp, p)).toBe('2026-05-10T10:00:00.000Z');
  });
});
