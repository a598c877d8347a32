/**
 * Every answer says how current it is: when the cache was last brought up to date, and how many
 * changes not applied yet touch what it read (and the oldest's age). A write counts against the
 * experiment it touches only; a session moved counts against both experiments; a refresh clears
 * them and advances the time; a TRUNCATE touches everything.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { readFreshness } from '../src/read/freshness.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { runCli } from './helpers/cli.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;
const refresh = () =>
  refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 100,
    batchExperiments: 10,
  });
const of = (...experimentIds: number[]) => readFreshness(t.db, { experimentIds });

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
  const before = await of(a);
  expect(before.pendingChanges).toBeGreaterThan(0);
  expect(before.mode).toBe('cached');

  await refresh();
  const fresh = await of(a, b);
  expect(fresh).toEqual({
    mode: 'cached',
    refreshedAt: expect.any(Date),
    pendingChanges: 0,
    oldestPendingAt: null,
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

  await refresh();
  const after = await of(a, b);
  expect(after.pendingChanges).toBe(0);
  expect((after.refreshedAt as Date).getTime()).toBeGreaterThanOrEqual((fresh.refreshedAt as Date).getTime());

  // A TRUNCATE touches every experiment, even one never written to.
  const c = await f.experiment(t.teamId);
  await t.db.execute(sql`truncate chat_message_tags`);
  expect((await of(c)).pendingChanges).toBe(1);
});

it('totals and sessions in the CLI carry each row freshness; the text output ends with it on stderr', async () => {
  const a = await f.experiment(t.teamId);
  const b = await f.experiment(t.teamId);
  const s = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-06-01T10:00:00Z' });
  await refresh();
  await f.messages(s.chatId, [['human', '2026-06-01T10:05:00Z']]);
  const totals = await runCli(['totals', '--experiment', `${a},${b}`, '--json'], t.url);
  expect(totals.code).toBe(0);
  const rows = JSON.parse(totals.stdout) as { experimentId: number; freshness: { pendingChanges: number } }[];
  expect(rows.map((r) => [r.experimentId, r.freshness.pendingChanges])).toEqual([
    [a, 1],
    [b, 0],
  ]);
  const sessions = await runCli(['sessions', '--experiment', String(a), '--json'], t.url);
  expect(JSON.parse(sessions.stdout)).toEqual([
    expect.objectContaining({
      sessionId: s.id,
      freshness: {
        mode: 'cached',
        refreshedAt: expect.any(String),
        pendingChanges: 1,
        oldestPendingAt: expect.any(String),
      },
    }),
  ]);
  const text = await runCli(['totals', '--experiment', String(a)], t.url);
  expect(text.stderr).toMatch(
    /^cache up to date as of \S+; 1 change\(s\) pending for these rows, the oldest captured \S+ \(the next refresh applies them\)\n$/,
  );
  await refresh();
  expect((await runCli(['totals', '--experiment', String(a)], t.url)).stderr).toMatch(
    /nothing pending for these rows\n$/,
  );
});
