/**
 * verify tells drift from lag: a difference a pending change explains (a write not refreshed yet)
 * is reported as pending and does not fail; a bucket corrupted by hand, with no change pending, is
 * a mismatch (exit 1); both together give exactly one mismatch. verify-sample heals only drift.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { verify } from '../src/verify/verify.js';
import { runCli } from './helpers/cli.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;
const check = (experimentIds?: number[]) =>
  verify(t.db, { experimentIds, excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 10 });
const refresh = () =>
  refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 100,
    batchExperiments: 10,
  });

it('a write not refreshed yet is pending (exit 0), a corrupted bucket is a mismatch (exit 1), both give exactly one mismatch', async () => {
  const a = await f.experiment(t.teamId);
  const b = await f.experiment(t.teamId);
  const p = await f.participant(t.teamId);
  const sa = await f.session({
    teamId: t.teamId,
    experimentId: a,
    participantId: p,
    createdAt: '2026-05-01T10:00:00Z',
  });
  const sb = await f.session({
    teamId: t.teamId,
    experimentId: b,
    participantId: p,
    createdAt: '2026-05-02T10:00:00Z',
  });
  await f.messages(sa.chatId, [['human', '2026-05-01T10:05:00Z']]);
  await f.messages(sb.chatId, [['human', '2026-05-02T10:05:00Z']]);
  await refresh();
  await expectCacheExact(t.db);

  // One insert, no refresh: the recount differs (experiment bucket, totals, session bucket), all lag.
  await f.messages(sa.chatId, [['human', '2026-05-01T10:30:00Z']]);
  const lag = await check();
  expect(lag.mismatches).toEqual([]);
  expect(lag.pending.map((m) => m.kind).sort()).toEqual([
    'experiment_bucket',
    'experiment_totals',
    'session_bucket',
  ]);
  const cliLag = await runCli(['verify'], t.url);
  expect(cliLag.code).toBe(0);
  expect(cliLag.stdout).toContain('0 mismatch(es); 3 difference(s) pending');

  // A bucket of the other experiment corrupted by hand: nothing pending explains it.
  await t.db.execute(
    sql`update experiment_statistics_buckets set human_message_count = human_message_count + 5 where experiment_id = ${b}`,
  );
  const both = await check();
  expect(both.mismatches).toEqual([
    expect.objectContaining({
      kind: 'experiment_bucket',
      experimentId: b,
      bucketStart: '2026-05-02T10:00:00.000Z',
    }),
  ]);
  expect(both.pending).toHaveLength(3);
  const cliBoth = await runCli(['verify', '--json'], t.url);
  expect(cliBoth.code).toBe(1);
  expect(JSON.parse(cliBoth.stdout)).toMatchObject({
    mismatches: [{ experimentId: b }],
    pending: expect.any(Array),
  });

  // Refreshed: the lag is gone, the corruption stays (no change names it) until it is rebuilt.
  await refresh();
  const after = await check();
  expect(after.pending).toEqual([]);
  expect(after.mismatches).toHaveLength(1);
  const cliAfter = await runCli(['verify'], t.url);
  expect(cliAfter.code).toBe(1);
  expect(cliAfter.stdout).toContain('1 mismatch(es)');
});
