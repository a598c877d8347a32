/**
 * Fresh reads stay exact while the worker applies the changes they recount: with the chat tables
 * still, a refresh in small batches (many transactions, and other refreshes' claims in flight)
 * runs while every fresh read is checked against a live recount, over and over, until it ends.
 */
import { sql } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import {
  expectFreshReadsExact,
  type LiveModel,
  recountStatcacheSessions,
  STATCACHE_MODEL,
} from './helpers/fresh-checks.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;
const MODEL: LiveModel = {
  ...STATCACHE_MODEL,
  source: STATCACHE_PROFILE,
  sessionTotals: recountStatcacheSessions,
};
const refresh = (batchChanges: number) =>
  refreshIncremental(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchChanges, batchExperiments: 2 });

it('every fresh read equals the live recount while refreshes apply the changes', async () => {
  const experiments = [
    await f.experiment(t.teamId),
    await f.experiment(t.teamId),
    await f.experiment(t.teamId),
  ];
  const participants = [await f.participant(t.teamId), await f.participant(t.teamId)];
  const sessions: { id: number; chatId: number }[] = [];
  for (let i = 0; i < 12; i++)
    sessions.push(
      await f.session({
        teamId: t.teamId,
        experimentId: experiments[i % 3] as number,
        participantId: participants[i % 2] ?? null,
        platform: i % 5 === 0 ? 'evaluations' : 'web',
        createdAt: `2026-03-${String(1 + i).padStart(2, '0')}T10:00:00Z`,
      }),
    );
  for (const s of sessions) await f.messages(s.chatId, [['human', '2026-03-15T10:00:00Z']]);
  await refresh(10_000);
  let checks = 0;
  for (let round = 0; round < 4; round++) {
    // Writes of every kind the keys know, then the tables stay still.
    for (const [i, s] of sessions.entries())
      await f.messages(s.chatId, [
        ['human', `2026-0${1 + ((i + round) % 4)}-1${i % 9}T0${round}:30:00Z`],
        ['human', '2026-04-20T12:00:00Z'],
      ]);
    const moved = sessions[round] as { id: number };
    await t.db.execute(
      sql`update experiment_sessions set experiment_id = ${experiments[(round + 1) % 3]} where id = ${moved.id}`,
    );
    await t.db.execute(sql`delete from chat_messages where id = (select min(m.id) from chat_messages m
      join experiment_sessions s on s.chat_id = m.chat_id where s.team_id = ${t.teamId} and m.message_type = 'human')`);
    // Two refreshes in one-change batches: many short transactions, sharing the queue.
    let done = false;
    const running = Promise.all([refresh(1), refresh(2)]).finally(() => {
      done = true;
    });
    do {
      await expectFreshReadsExact(t.db, MODEL, t.teamId, experiments);
      checks++;
    } while (!done);
    await running;
    await expectFreshReadsExact(t.db, MODEL, t.teamId, experiments);
  }
  // The reads ran while the refreshes did (49 checks here on 2 cores), not only once after each.
  expect(checks).toBeGreaterThan(8);
});
