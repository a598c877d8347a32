/**
 * Every answer says how current it is, from its own statement: when the cache was last brought up
 * to date, how many changes not applied yet touch what it read (and the oldest's age), and how it
 * was computed (cached, fresh, live). A fresh read is exact now; beyond its bound it falls back and
 * says so; before the first build every read is counted live. A fresh read recounts (a second
 * statement) only when changes are pending for it.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { createDb } from '../src/db/create-db.js';
import { getExperimentSeries } from '../src/read/get-experiment-series.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { runCli } from './helpers/cli.js';
import { createCountingDb } from './helpers/counting-db.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;
const refresh = () =>
  refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 100,
    batchExperiments: 10,
  });
const of = async (...experimentIds: number[]) => (await getExperimentTotals(t.db, experimentIds)).freshness;

it('before the first build every read is counted live, not zeros', async () => {
  // useTestDatabase's template is migrated, never built.
  const a = await f.experiment(t.teamId);
  const p = await f.participant(t.teamId);
  const s = await f.session({
    teamId: t.teamId,
    experimentId: a,
    participantId: p,
    createdAt: '2026-04-01T10:00:00Z',
  });
  await f.messages(s.chatId, [
    ['human', '2026-04-01T10:05:00Z'],
    ['ai', '2026-04-01T10:06:00Z'],
    ['human', '2026-04-02T09:00:00Z'],
  ]);
  const tag = await f.tag(t.teamId, 'v3');
  const [m] = await f.messages(s.chatId, [['ai', '2026-04-02T09:01:00Z']]);
  await f.tagMessage(m as number, tag);
  const totals = await getExperimentTotals(t.db, [a]);
  expect(totals.freshness.mode).toBe('live');
  expect(totals.get(a)).toEqual({
    sessions: 1,
    participants: 1,
    humanMessages: 2,
    lastActivityAt: new Date('2026-04-02T09:00:00Z'),
  });
  const page = await listExperiments(t.db, { teamId: t.teamId });
  expect(page.freshness.mode).toBe('live');
  expect(page.rows.find((r) => r.experimentId === a)?.humanMessages).toBe(2);
  const sessions = await listSessions(t.db, { experimentId: a });
  expect(sessions.rows.map((r) => [r.sessionId, r.humanMessages, r.experimentVersions])).toEqual([
    [s.id, 2, ['v3']],
  ]);
  expect((await getSessionTotals(t.db, [s.id])).get(s.id)?.humanMessages).toBe(2);
  const series = await getExperimentSeries(t.db, [a], {
    from: new Date('2026-04-01T00:00:00Z'),
    to: new Date('2026-04-03T00:00:00Z'),
  });
  expect(series.freshness.mode).toBe('live');
  expect(series.get(a)?.map((p) => [p.bucketStart.toISOString(), p.sessions, p.humanMessages])).toEqual([
    ['2026-04-01T10:00:00.000Z', 1, 1],
    ['2026-04-02T09:00:00.000Z', 0, 1],
  ]);
  // The first refresh builds it; from then on reads are cached.
  await refresh();
  const built = await getExperimentTotals(t.db, [a]);
  expect(built.freshness).toEqual({
    mode: 'cached',
    refreshedAt: expect.any(Date),
    pendingChanges: 0,
    oldestPendingAt: null,
    fellBack: false,
  });
  expect(built.get(a)).toEqual(totals.get(a));
});

it('counts the pending changes that touch what was read, and when the cache was brought up to date', async () => {
  const a = await f.experiment(t.teamId);
  const b = await f.experiment(t.teamId);
  const p = await f.participant(t.teamId);
  const sa = await f.session({
    teamId: t.teamId,
    experimentId: a,
    participantId: p,
    createdAt: '2026-05-01T10:00:00Z',
  });
  await f.messages(sa.chatId, [['human', '2026-05-01T10:05:00Z']]);
  await refresh();
  const fresh = await of(a, b);
  expect(fresh).toEqual({
    mode: 'cached',
    refreshedAt: expect.any(Date),
    pendingChanges: 0,
    oldestPendingAt: null,
    fellBack: false,
  });
  const [{ now }] = (await t.db.execute(sql`select now() as now`)).rows as [{ now: string }];
  expect(Math.abs((fresh.refreshedAt as Date).getTime() - new Date(now).getTime())).toBeLessThan(60_000);

  // A new message in a's session: a's answers are one change behind, b's are not.
  await f.messages(sa.chatId, [['human', '2026-05-01T10:30:00Z']]);
  const behind = await of(a);
  expect(behind.pendingChanges).toBe(1);
  expect(behind.oldestPendingAt).toBeInstanceOf(Date);
  expect((await of(b)).pendingChanges).toBe(0);

  // The session moves to b: both experiments' numbers wait for the next refresh.
  await t.db.execute(sql`update experiment_sessions set experiment_id = ${b} where id = ${sa.id}`);
  expect((await of(b)).pendingChanges).toBeGreaterThan(0);
  expect((await of(a)).pendingChanges).toBeGreaterThan(1);
  // Exact now, before any refresh: the session and its two messages count under b only.
  const now2 = await getExperimentTotals(t.db, [a, b], { fresh: true });
  expect(now2.freshness.mode).toBe('fresh');
  expect(Object.fromEntries(now2)).toEqual({
    [a]: { sessions: 0, participants: 0, humanMessages: 0, lastActivityAt: null },
    [b]: { sessions: 1, participants: 1, humanMessages: 2, lastActivityAt: new Date('2026-05-01T10:30:00Z') },
  });
  // The cached answer is still the old one, and says so.
  const cached = await getExperimentTotals(t.db, [a]);
  expect(cached.get(a)?.humanMessages).toBe(1);
  expect(cached.freshness.mode).toBe('cached');

  await refresh();
  const after = await getExperimentTotals(t.db, [a, b]);
  expect(after.freshness.pendingChanges).toBe(0);
  expect(Object.fromEntries(after)).toEqual(Object.fromEntries(now2));

  // A TRUNCATE touches every experiment, even one never written to; a fresh read counts it live.
  const c = await f.experiment(t.teamId);
  await t.db.execute(sql`truncate chat_message_tags`);
  expect((await of(c)).pendingChanges).toBe(1);
  const whole = await getExperimentTotals(t.db, [b, c], { fresh: true });
  expect(whole.freshness.mode).toBe('fresh');
  expect(whole.get(b)).toEqual(after.get(b));
});

it('a fresh read beyond its bound answers from the cache and says it fell back', async () => {
  const a = await f.experiment(t.teamId);
  const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-05-02T10:00:00Z' });
  await refresh();
  await f.messages(s.chatId, [
    ['human', '2026-05-02T10:05:00Z'],
    ['human', '2026-05-02T11:05:00Z'],
    ['human', '2026-05-02T12:05:00Z'],
  ]);
  const within = await getExperimentTotals(t.db, [a], { fresh: true, freshMaxPending: 3 });
  expect(within.freshness).toMatchObject({ mode: 'fresh', pendingChanges: 3, fellBack: false });
  expect(within.get(a)?.humanMessages).toBe(3);
  const beyond = await getExperimentTotals(t.db, [a], { fresh: true, freshMaxPending: 2 });
  expect(beyond.freshness).toMatchObject({ mode: 'cached', pendingChanges: 3, fellBack: true });
  expect(beyond.get(a)?.humanMessages).toBe(0);
  await expect(getExperimentTotals(t.db, [a], { fresh: true, freshMaxPending: -1 })).rejects.toThrow(
    "freshMaxPending must be a whole number, 0 or more (got '-1')",
  );
});

it('totals and sessions in the CLI carry the freshness; --fresh is exact now; the text output ends with it on stderr', async () => {
  const a = await f.experiment(t.teamId);
  const b = await f.experiment(t.teamId);
  const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-06-01T10:00:00Z' });
  await refresh();
  await f.messages(s.chatId, [['human', '2026-06-01T10:05:00Z']]);
  const totals = await runCli(['totals', '--experiment', `${a},${b}`, '--json'], t.url);
  expect(totals.code).toBe(0);
  const rows = JSON.parse(totals.stdout) as {
    experimentId: number;
    humanMessages: number;
    freshness: unknown;
  }[];
  const cachedFreshness = {
    mode: 'cached',
    refreshedAt: expect.any(String),
    pendingChanges: 1,
    oldestPendingAt: expect.any(String),
    fellBack: false,
  };
  expect(rows.map((r) => [r.experimentId, r.humanMessages, r.freshness])).toEqual([
    [a, 0, cachedFreshness],
    [b, 0, cachedFreshness],
  ]);
  const exact = await runCli(['totals', '--experiment', `${a},${b}`, '--json', '--fresh'], t.url);
  expect(exact.code).toBe(0);
  expect(
    (JSON.parse(exact.stdout) as typeof rows).map((r) => [r.experimentId, r.humanMessages, r.freshness]),
  ).toEqual([
    [a, 1, { ...cachedFreshness, mode: 'fresh' }],
    [b, 0, { ...cachedFreshness, mode: 'fresh' }],
  ]);
  const sessions = await runCli(['sessions', '--experiment', String(a), '--json', '--fresh'], t.url);
  expect(JSON.parse(sessions.stdout)).toEqual([
    expect.objectContaining({
      sessionId: s.id,
      humanMessages: 1,
      freshness: { ...cachedFreshness, mode: 'fresh' },
    }),
  ]);
  const text = await runCli(['totals', '--experiment', String(a)], t.url);
  expect(text.stderr).toMatch(
    /^cache up to date as of \S+; 1 change\(s\) pending for these rows, the oldest captured \S+ \(the next refresh applies them; --fresh counts them now\)\n$/,
  );
  expect((await runCli(['totals', '--experiment', String(a), '--fresh'], t.url)).stderr).toMatch(
    /^exact now: 1 pending change\(s\) recounted from source \(cache up to date as of \S+\)\n$/,
  );
  await refresh();
  expect((await runCli(['totals', '--experiment', String(a)], t.url)).stderr).toMatch(
    /nothing pending for these rows\n$/,
  );
});

it('a fresh read costs one statement when nothing is pending or more than its bound is, two when it recounts', async () => {
  const counting = createCountingDb(t.url);
  try {
    const a = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-05-03T10:00:00Z' });
    await refresh();
    const run = async (options: { fresh?: boolean; freshMaxPending?: number }) => {
      counting.reset();
      const page = await listExperiments(counting.db, { teamId: t.teamId, ...options });
      return [page.freshness.mode, page.freshness.fellBack, counting.count()];
    };
    expect(await run({})).toEqual(['cached', false, 1]);
    expect(await run({ fresh: true })).toEqual(['fresh', false, 1]);
    await f.messages(s.chatId, [['human', '2026-05-03T10:05:00Z']]);
    expect(await run({})).toEqual(['cached', false, 1]);
    expect(await run({ fresh: true })).toEqual(['fresh', false, 2]);
    expect(await run({ fresh: true, freshMaxPending: 0 })).toEqual(['cached', true, 1]);
  } finally {
    await counting.close();
  }
});

it("statcache's own connections run without JIT, and reads give the same answers unprepared", async () => {
  const db = createDb(t.url, { max: 1 });
  const unprepared = createDb(t.url, { max: 1, preparedReads: false });
  try {
    expect((await db.execute(sql`show jit`)).rows).toEqual([{ jit: 'off' }]);
    const a = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-05-04T10:00:00Z' });
    await f.messages(s.chatId, [['human', '2026-05-04T10:05:00Z']]);
    for (const fresh of [false, true]) {
      const prepared = await listExperiments(db, { teamId: t.teamId, fresh, sortBy: 'humanMessages' });
      // Twice on the same connection: the second runs the prepared statement's plan.
      expect(await listExperiments(db, { teamId: t.teamId, fresh, sortBy: 'humanMessages' })).toEqual(
        prepared,
      );
      expect(await listExperiments(unprepared, { teamId: t.teamId, fresh, sortBy: 'humanMessages' })).toEqual(
        prepared,
      );
    }
  } finally {
    await db.close();
    await unprepared.close();
  }
});
