/**
 * Incremental refresh: after each kind of change the chat platform can make, one `refresh` (no
 * --full) leaves every bucket and versions cache equal to a live recount, and consumes the changes.
 */
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { shapeAt } from '../src/buckets/shape.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { getStatus } from '../src/status/get-status.js';
import { experimentBuckets, sessionBuckets } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase();
const f = t.fixture;
let teamId: number;

beforeEach(async () => {
  teamId = await f.team();
});

const exec = (query: ReturnType<typeof sql>) => t.db.execute(query);
const refresh = () =>
  refreshIncremental(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchChanges: 7, batchExperiments: 10 });

/** Refreshes incrementally, then asserts verify finds nothing and no change is left pending. */
async function expectExactAfterRefresh() {
  const result = await refresh();
  await expectCacheExact(t.db);
  expect((await getStatus(t.db)).pending.count).toBe(0);
  return result;
}

/** One experiment with a session (participant p) holding human messages at 10:05 and 11:05. */
async function baseline() {
  const exp = await f.experiment(teamId);
  const p = await f.participant(teamId);
  const s = await f.session({
    teamId,
    experimentId: exp,
    participantId: p,
    createdAt: '2026-05-10T10:00:00Z',
  });
  const [m1, m2] = await f.messages(s.chatId, [
    ['human', '2026-05-10T10:05:00Z'],
    ['human', '2026-05-10T11:05:00Z'],
    ['ai', '2026-05-10T11:06:00Z'],
  ]);
  await expectExactAfterRefresh();
  return { exp, p, s, m1: m1 as number, m2: m2 as number };
}

const totals = async (exp: number) => (await getExperimentTotals(t.db, [exp])).get(exp);

describe('messages', () => {
  it('a new message in the current hour', async () => {
    const { exp, s } = await baseline();
    const now = new Date();
    await f.messages(s.chatId, [['human', now.toISOString()]]);
    const result = await expectExactAfterRefresh();
    expect(result.changes).toBeGreaterThan(0);
    expect((await totals(exp))?.humanMessages).toBe(3);
  });

  it('late messages hours, days and months old', async () => {
    const { exp, s } = await baseline();
    await f.messages(s.chatId, [
      ['human', '2026-05-10T07:59:00Z'],
      ['human', '2026-05-02T03:00:00Z'],
      ['human', '2026-01-15T12:00:00Z'],
    ]);
    await expectExactAfterRefresh();
    expect((await experimentBuckets(t.db, exp)).map((b) => b.bucketStart)).toEqual([
      '2026-01-15T12:00:00.000Z',
      '2026-05-02T03:00:00.000Z',
      '2026-05-10T07:00:00.000Z',
      '2026-05-10T10:00:00.000Z',
      '2026-05-10T11:00:00.000Z',
    ]);
  });

  it('a deleted message; its hour disappears when nothing else is in it', async () => {
    const { exp, m2 } = await baseline();
    await exec(sql`delete from chat_messages where id = ${m2}`);
    await expectExactAfterRefresh();
    expect((await experimentBuckets(t.db, exp)).map((b) => b.bucketStart)).toEqual([
      '2026-05-10T10:00:00.000Z',
    ]);
  });

  it('the experiment totals follow: latest activity lost, lowered inside its hour, and nothing left', async () => {
    const { exp, s, m1, m2 } = await baseline();
    const [late] = await f.messages(s.chatId, [['human', '2026-05-10T11:30:00Z']]);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toEqual({
      sessions: 1,
      participants: 1,
      humanMessages: 3,
      lastActivityAt: new Date('2026-05-10T11:30:00Z'),
    });
    // The latest activity goes down inside the hour that held it.
    await exec(sql`delete from chat_messages where id = ${late as number}`);
    await expectExactAfterRefresh();
    expect((await totals(exp))?.lastActivityAt).toEqual(new Date('2026-05-10T11:05:00Z'));
    // The hour that held it loses all its messages: the latest is now in an hour not recounted.
    await exec(sql`delete from chat_messages where id = ${m2}`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toEqual({
      sessions: 1,
      participants: 1,
      humanMessages: 1,
      lastActivityAt: new Date('2026-05-10T10:05:00Z'),
    });
    // Nothing left to count: the experiment has no buckets and no totals row.
    await exec(sql`delete from chat_messages where id = ${m1}`);
    await exec(sql`delete from experiment_sessions where id = ${s.id}`);
    await expectExactAfterRefresh();
    const [row] = await queryRows<{ n: unknown }>(
      t.db,
      sql`select count(*) as n from statcache_experiment_totals where experiment_id = ${exp}`,
    );
    expect(toNumber(row?.n)).toBe(0);
    expect(await totals(exp)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
  });

  it('a type change human → ai and ai → human', async () => {
    const { exp, s, m1 } = await baseline();
    await exec(sql`update chat_messages set message_type = 'ai' where id = ${m1}`);
    await exec(
      sql`update chat_messages set message_type = 'human' where chat_id = ${s.chatId} and message_type = 'ai' and id <> ${m1}`,
    );
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({
      humanMessages: 2,
      lastActivityAt: new Date('2026-05-10T11:06:00Z'),
    });
  });

  it('created_at moved to another hour, and a content edit changes nothing', async () => {
    const { exp, m2 } = await baseline();
    await exec(sql`update chat_messages set created_at = '2026-05-09T23:30:00Z' where id = ${m2}`);
    await expectExactAfterRefresh();
    await exec(sql`update chat_messages set content = 'edited' where id = ${m2}`);
    expect((await getStatus(t.db)).pending.count).toBe(0);
    expect((await experimentBuckets(t.db, exp)).map((b) => [b.bucketStart, b.humanMessages])).toEqual([
      ['2026-05-09T23:00:00.000Z', 1],
      ['2026-05-10T10:00:00.000Z', 1],
    ]);
  });

  it('a message moved to another chat in another experiment', async () => {
    const { exp, m1 } = await baseline();
    const other = await f.experiment(teamId);
    const s2 = await f.session({ teamId, experimentId: other, createdAt: '2026-05-10T09:00:00Z' });
    await exec(sql`update chat_messages set chat_id = ${s2.chatId} where id = ${m1}`);
    await expectExactAfterRefresh();
    expect((await totals(exp))?.humanMessages).toBe(1);
    expect((await totals(other))?.humanMessages).toBe(1);
    expect((await getSessionTotals(t.db, [s2.id])).get(s2.id)?.humanMessages).toBe(1);
  });
});

describe('sessions', () => {
  it('a session inserted after its messages were written', async () => {
    const exp = await f.experiment(teamId);
    const [chat] = await queryRows<{ id: unknown }>(
      t.db,
      sql`insert into chats (team_id) values (${teamId}) returning id`,
    );
    const chatId = toNumber(chat?.id);
    await f.messages(chatId, [['human', '2026-05-11T08:00:00Z']]);
    await refresh();
    await exec(sql`insert into experiment_sessions (team_id, experiment_id, chat_id, created_at)
                   values (${teamId}, ${exp}, ${chatId}, '2026-05-11T07:59:00Z')`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 1, humanMessages: 1 });
  });

  it('a session deleted by deleting its chat (cascading the messages)', async () => {
    const { exp, s } = await baseline();
    await exec(sql`delete from chats where id = ${s.chatId}`);
    await expectExactAfterRefresh();
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
    expect((await getSessionTotals(t.db, [s.id])).get(s.id)?.humanMessages).toBe(0);
  });

  it("a session whose buckets are coarser than its experiment's, deleted by deleting its chat", async () => {
    const exp = await f.experiment(teamId);
    const s = await f.session({ teamId, experimentId: exp, createdAt: '2026-02-20T10:00:00Z' });
    await f.messages(s.chatId, [['human', '2026-02-20T10:30:00Z']]);
    await expectExactAfterRefresh();
    // Moving the session in time rebuilds its buckets whole in the policy's shape: its 20 February
    // turns daily, while the experiment's hour holding the message stays hourly.
    await exec(sql`update experiment_sessions set created_at = '2026-03-01T00:00:00Z' where id = ${s.id}`);
    const policy = { hourlyRetentionHours: 1, dailyRetentionDays: 2 };
    await refreshIncremental(t.db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchChanges: 7,
      batchExperiments: 10,
      bucketShape: shapeAt(policy, new Date('2026-03-01T00:00:00Z')),
    });
    expect((await sessionBuckets(t.db, s.id)).map((b) => b.bucketStart)).toEqual([
      '2026-02-20T00:00:00.000Z',
    ]);
    expect((await experimentBuckets(t.db, exp)).map((b) => [b.bucketSize, b.bucketStart])).toEqual([
      ['hour', '2026-02-20T10:00:00.000Z'],
      ['hour', '2026-03-01T00:00:00.000Z'],
    ]);
    // The chat's delete cascades to the messages and the session: the only record of the hour its
    // message counted in is the session's daily bucket.
    await exec(sql`delete from chats where id = ${s.chatId}`);
    await expectExactAfterRefresh();
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
  });

  it('a session row deleted on its own (its chat and messages stay, counted nowhere)', async () => {
    const { exp, s } = await baseline();
    await exec(sql`delete from experiment_sessions where id = ${s.id}`);
    await expectExactAfterRefresh();
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
  });

  it('a session moved to another experiment', async () => {
    const { exp, s } = await baseline();
    const other = await f.experiment(teamId);
    await exec(sql`update experiment_sessions set experiment_id = ${other} where id = ${s.id}`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 0, participants: 0, humanMessages: 0 });
    expect(await totals(other)).toMatchObject({ sessions: 1, participants: 1, humanMessages: 2 });
  });

  it('a session moved while another refresh holds its session change: the old experiment leaves it out meanwhile', async () => {
    const { exp, s } = await baseline();
    // A second session in the same hours keeps the old experiment's buckets there.
    const stay = await f.session({ teamId, experimentId: exp, createdAt: '2026-05-10T10:30:00Z' });
    await f.messages(stay.chatId, [['human', '2026-05-10T10:40:00Z']]);
    await expectExactAfterRefresh();
    const other = await f.experiment(teamId);
    await exec(sql`update experiment_sessions set experiment_id = ${other} where id = ${s.id}`);
    // Another refresh has claimed the session change (deleted, not committed) and not yet
    // rewritten the session's buckets, which are still filed under the old experiment.
    const holder = await t.db.$client.connect();
    try {
      await holder.query('begin');
      const held = await holder.query(
        `delete from statcache_changes where kind = 'session' and session_id = $1 returning id`,
        [s.id],
      );
      expect(held.rowCount).toBe(2); // one per side of the update
      // This refresh applies every other change, the old experiment's hours among them.
      expect((await refresh()).changes).toBeGreaterThan(0);
      expect(await totals(exp)).toMatchObject({ sessions: 1, participants: 0, humanMessages: 1 });
      // The other refresh fails: its claim comes back for the next run.
      await holder.query('rollback');
    } finally {
      holder.release();
    }
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 1, participants: 0, humanMessages: 1 });
    expect(await totals(other)).toMatchObject({ sessions: 1, participants: 1, humanMessages: 2 });
  });

  it('platform changed to and from an excluded one', async () => {
    const { exp, s } = await baseline();
    await exec(sql`update experiment_sessions set platform = 'evaluations' where id = ${s.id}`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 0, participants: 0, humanMessages: 0 });
    expect((await getSessionTotals(t.db, [s.id])).get(s.id)?.humanMessages).toBe(2);
    await exec(sql`update experiment_sessions set platform = 'whatsapp' where id = ${s.id}`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 1, participants: 1, humanMessages: 2 });
  });
});

describe('participants', () => {
  async function twoSessions() {
    const exp = await f.experiment(teamId);
    const p = await f.participant(teamId);
    const first = await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-12T08:10:00Z',
    });
    const second = await f.session({
      teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-14T15:20:00Z',
    });
    await expectExactAfterRefresh();
    return { exp, p, first, second };
  }
  const participantHours = async (exp: number) =>
    (await experimentBuckets(t.db, exp)).filter((b) => b.participants > 0).map((b) => b.bucketStart);

  it('first session deleted: the participant counts in the hour of their next session', async () => {
    const { exp, first } = await twoSessions();
    expect(await participantHours(exp)).toEqual(['2026-05-12T08:00:00.000Z']);
    await exec(sql`delete from experiment_sessions where id = ${first.id}`);
    await expectExactAfterRefresh();
    expect(await participantHours(exp)).toEqual(['2026-05-14T15:00:00.000Z']);
  });

  it('first session moved later, and an earlier session inserted', async () => {
    const { exp, first, p } = await twoSessions();
    await exec(
      sql`update experiment_sessions set created_at = '2026-05-20T00:00:00Z' where id = ${first.id}`,
    );
    await expectExactAfterRefresh();
    expect(await participantHours(exp)).toEqual(['2026-05-14T15:00:00.000Z']);
    await f.session({ teamId, experimentId: exp, participantId: p, createdAt: '2026-04-01T01:00:00Z' });
    await expectExactAfterRefresh();
    expect(await participantHours(exp)).toEqual(['2026-04-01T01:00:00.000Z']);
  });

  it('participant set to null, and a participant deleted (ON DELETE SET NULL)', async () => {
    const { exp, first, p } = await twoSessions();
    await exec(sql`update experiment_sessions set participant_id = null where id = ${first.id}`);
    await expectExactAfterRefresh();
    expect(await participantHours(exp)).toEqual(['2026-05-14T15:00:00.000Z']);
    await exec(sql`delete from participants where id = ${p}`);
    await expectExactAfterRefresh();
    expect(await totals(exp)).toMatchObject({ sessions: 2, participants: 0 });
  });
});

describe('version tags', () => {
  it('added, removed, renamed, recategorized and deleted', async () => {
    const { s, m1, m2 } = await baseline();
    const versions = async () => (await getSessionTotals(t.db, [s.id])).get(s.id)?.experimentVersions;
    const v10 = await f.tag(teamId, 'v10');
    const v2 = await f.tag(teamId, 'v2');
    await f.tagMessage(m1, v10);
    await f.tagMessage(m2, v2);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual(['v2', 'v10']);
    await exec(sql`delete from chat_message_tags where message_id = ${m2}`);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual(['v10']);
    await exec(sql`update tags set name = 'v1' where id = ${v10}`);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual(['v1']);
    await exec(sql`update tags set category = 'topic' where id = ${v10}`);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual([]);
    await exec(sql`update tags set category = 'experiment_version' where id = ${v10}`);
    await f.tagMessage(m2, v2);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual(['v1', 'v2']);
    await exec(sql`delete from tags where id = ${v2}`);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual(['v1']);
    await exec(sql`delete from chat_messages where id = ${m1}`);
    await expectExactAfterRefresh();
    expect(await versions()).toEqual([]);
  });
});

describe('deletions and truncation', () => {
  it('an experiment deleted: its buckets disappear', async () => {
    const { exp, s } = await baseline();
    await exec(sql`delete from experiments where id = ${exp}`);
    await expectExactAfterRefresh();
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
    const [row] = await queryRows<{ n: unknown }>(
      t.db,
      sql`select count(*) as n from session_statistics_buckets where session_id = ${s.id}`,
    );
    expect(toNumber(row?.n)).toBe(0);
  });

  it('a whole team deleted: its buckets disappear, others stay', async () => {
    const { exp } = await baseline();
    const otherTeam = await f.team();
    const keep = await f.experiment(otherTeam);
    const s = await f.session({ teamId: otherTeam, experimentId: keep, createdAt: '2026-05-10T10:00:00Z' });
    await f.messages(s.chatId, [['human', '2026-05-10T10:30:00Z']]);
    await expectExactAfterRefresh();
    await exec(sql`delete from teams where id = ${teamId}`);
    await expectExactAfterRefresh();
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
    expect(await experimentBuckets(t.db, keep)).toHaveLength(1);
  });

  it('a TRUNCATE falls back to a full rebuild', async () => {
    await baseline();
    await exec(sql`truncate chat_message_tags`);
    const result = await expectExactAfterRefresh();
    expect(result.fullRebuild).toBe(true);
  });
});

describe('the queue', () => {
  it('a full refresh discards the changes it covers; a second incremental run finds nothing', async () => {
    const { s } = await baseline();
    await f.messages(s.chatId, [['human', '2026-05-10T12:00:00Z']]);
    expect((await getStatus(t.db)).pending.count).toBeGreaterThan(0);
    const full = await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 50 });
    expect(full.changesDiscarded).toBeGreaterThan(0);
    expect((await getStatus(t.db)).pending.count).toBe(0);
    expect((await refresh()).changes).toBe(0);
  });

  it('a refresh that fails mid-batch rolls back: its claimed changes stay queued, nothing half-written', async () => {
    const { exp, s } = await baseline();
    await f.messages(s.chatId, [['human', '2026-05-10T12:00:00Z']]);
    const pending = (await getStatus(t.db)).pending.count;
    const before = await experimentBuckets(t.db, exp);
    // Make the bucket write fail after the claim, the participant and session steps have run.
    await exec(
      sql.raw(`create function fail_bucket_write() returns trigger language plpgsql as
      $$ begin raise exception 'injected failure'; end $$;
      create trigger fail_bucket_write before insert or update on experiment_statistics_buckets
      for each row execute function fail_bucket_write();`),
    );
    await expect(refresh()).rejects.toThrow();
    await exec(
      sql.raw(
        'drop trigger fail_bucket_write on experiment_statistics_buckets; drop function fail_bucket_write();',
      ),
    );
    expect((await getStatus(t.db)).pending.count).toBe(pending);
    expect(await experimentBuckets(t.db, exp)).toEqual(before);
    await expectExactAfterRefresh();
    expect((await totals(exp))?.humanMessages).toBe(3);
  });
});
