/**
 * refresh --full: scoped and unscoped rebuilds replace exactly their scope, remove buckets whose
 * source vanished, follow sessions that moved, give the same buckets whatever the batch size, and
 * two rebuilds at once still end exact.
 */
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { HOURLY_SHAPE } from '../src/buckets/shape.js';
import { createDb } from '../src/db/create-db.js';
import { onOneConnection } from '../src/db/on-one-connection.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { currentSnapshot } from '../src/rebuild/discard-covered-changes.js';
import { ensureBuilt } from '../src/rebuild/ensure-built.js';
import { rebuildBatch } from '../src/rebuild/rebuild-batch.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import { verify } from '../src/verify/verify.js';
import {
  clearVersionsByChat,
  precomputeVersionsByChat,
  VERSIONS_BY_CHAT,
} from '../src/versions/versions-by-chat.js';
import { experimentBuckets } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;

const full = (experimentIds?: number[], batchExperiments = 50) =>
  refreshFull(t.db, { experimentIds, excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments });
/**
 * For tests that expect differences, drift and lag alike (their writes leave change rows a scoped
 * rebuild does not consume); `expectCacheExact` for those that expect none.
 */
const mismatches = async (experimentIds?: number[]) => {
  const result = await verify(t.db, {
    experimentIds,
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: 50,
  });
  return [...result.mismatches, ...result.pending];
};

async function allBuckets(): Promise<string> {
  const [row] = await queryRows<{ f: string | null }>(
    t.db,
    sql`select md5(string_agg(concat_ws(':', experiment_id, bucket_size, bucket_start, session_count, new_participant_count,
                                         human_message_count, last_activity_at, team_id), ',' order by experiment_id, bucket_start)) ||
               (select md5(string_agg(concat_ws(':', session_id, experiment_id, bucket_start, human_message_count, last_activity_at), ','
                                      order by session_id, bucket_start)) from session_statistics_buckets) as f
        from experiment_statistics_buckets`,
  );
  return row?.f ?? '';
}

describe('scope', () => {
  it('a scoped refresh touches only the experiments it names', async () => {
    const a = await f.experiment(t.teamId);
    const b = await f.experiment(t.teamId);
    const sa = await f.session({ teamId: t.teamId, experimentId: a, createdAt: '2026-02-01T10:00:00Z' });
    const sb = await f.session({ teamId: t.teamId, experimentId: b, createdAt: '2026-02-01T10:00:00Z' });
    await f.messages(sa.chatId, [['human', '2026-02-01T10:01:00Z']]);
    await f.messages(sb.chatId, [['human', '2026-02-01T10:01:00Z']]);
    const result = await full([a]);
    expect(result).toMatchObject({ experiments: 1, batches: 1, experimentBuckets: 1, sessionBuckets: 1 });
    expect(await experimentBuckets(t.db, a)).toHaveLength(1);
    expect(await experimentBuckets(t.db, b)).toEqual([]);
    await full([b]);
    expect(await experimentBuckets(t.db, b)).toHaveLength(1);
  });

  it('verify reports a session bucket filed under another platform or experiment than its session', async () => {
    const exp = await f.experiment(t.teamId);
    const other = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-02-03T10:00:00Z' });
    await f.messages(s.chatId, [['human', '2026-02-03T10:05:00Z']]);
    await full([exp]);
    await expectCacheExact(t.db, { experimentIds: [exp] });
    const filed = {
      humanMessages: 1,
      lastActivityAt: '2026-02-03T10:05:00.000Z',
      experimentId: exp,
      platform: 'web',
    };
    const mismatch = (actual: Partial<typeof filed>) => ({
      kind: 'session_bucket',
      sessionId: s.id,
      bucketSize: 'hour',
      bucketStart: '2026-02-03T10:00:00.000Z',
      expected: filed,
      actual: { ...filed, ...actual },
    });
    await t.db.execute(
      sql`update session_statistics_buckets set platform = 'evaluations' where session_id = ${s.id}`,
    );
    expect(await mismatches([exp])).toEqual([mismatch({ platform: 'evaluations' })]);
    await t.db.execute(
      sql`update session_statistics_buckets set platform = 'web', experiment_id = ${other} where session_id = ${s.id}`,
    );
    expect(await mismatches([exp])).toEqual([mismatch({ experimentId: other })]);
    await full([exp]);
    await expectCacheExact(t.db, { experimentIds: [exp, other] });
  });

  it('drops hours whose source rows are gone instead of leaving zeros', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-02-02T10:00:00Z' });
    const [m] = await f.messages(s.chatId, [['human', '2026-02-02T13:00:00Z']]);
    await full([exp]);
    expect((await experimentBuckets(t.db, exp)).map((b) => b.bucketStart)).toEqual([
      '2026-02-02T10:00:00.000Z',
      '2026-02-02T13:00:00.000Z',
    ]);
    await t.db.execute(sql`delete from chat_messages where id = ${m}`);
    // The experiment hour, the session hour and the experiment's totals.
    expect((await mismatches([exp])).map((m) => m.kind)).toEqual([
      'experiment_bucket',
      'experiment_totals',
      'session_bucket',
    ]);
    await full([exp]);
    expect((await experimentBuckets(t.db, exp)).map((b) => b.bucketStart)).toEqual([
      '2026-02-02T10:00:00.000Z',
    ]);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('moves a session’s buckets with the session and its participant’s first hour with it', async () => {
    const a = await f.experiment(t.teamId);
    const b = await f.experiment(t.teamId);
    const p = await f.participant(t.teamId);
    const first = await f.session({
      teamId: t.teamId,
      experimentId: a,
      participantId: p,
      createdAt: '2026-02-03T08:00:00Z',
    });
    await f.session({
      teamId: t.teamId,
      experimentId: a,
      participantId: p,
      createdAt: '2026-02-03T11:00:00Z',
    });
    await f.messages(first.chatId, [['human', '2026-02-03T08:30:00Z']]);
    await full([a, b]);
    await t.db.execute(sql`update experiment_sessions set experiment_id = ${b} where id = ${first.id}`);
    expect((await mismatches([a, b])).length).toBeGreaterThan(0);
    await full([b]); // the session now belongs to b: b's rebuild claims its session buckets
    await full([a]);
    expect(
      (await experimentBuckets(t.db, a)).map((x) => [x.bucketStart, x.sessions, x.participants]),
    ).toEqual([['2026-02-03T11:00:00.000Z', 1, 1]]);
    await expectCacheExact(t.db, { experimentIds: [a, b] });
  });

  it('an unscoped refresh removes buckets of deleted experiments and sessions', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-02-04T10:00:00Z' });
    await f.messages(s.chatId, [['human', '2026-02-04T10:01:00Z']]);
    await full();
    await t.db.execute(sql`delete from experiments where id = ${exp}`);
    expect((await mismatches()).filter((m) => m.kind === 'orphan_buckets')).toEqual([
      { kind: 'orphan_buckets', table: 'experiment_statistics_buckets', id: exp, buckets: 1 },
      { kind: 'orphan_buckets', table: 'session_statistics_buckets', id: s.id, buckets: 1 },
      { kind: 'orphan_buckets', table: 'statcache_experiment_totals', id: exp, buckets: 1 },
    ]);
    const result = await full();
    expect(result.orphanBucketsDeleted).toBe(2);
    await expectCacheExact(t.db);
  });
});

describe('versions beside a running rebuild', () => {
  const versionsOf = async (sessionId: number) =>
    (
      await queryRows<{ v: string[] }>(
        t.db,
        sql`select cached_experiment_versions as v from experiment_sessions where id = ${sessionId}`,
      )
    )[0]?.v;

  it('a batch does not write its precomputed versions over newer ones a refresh wrote after the snapshot', async () => {
    // The race concurrent-refresh-ocs.test.ts hit now and then, step by step: the rebuild takes its
    // snapshot and precomputes every chat's versions; a tag is linked; a refresh beside the rebuild
    // applies it; then the rebuild's batch reaches the session's experiment.
    const experiment = await f.experiment(t.teamId);
    const raced = await f.session({
      teamId: t.teamId,
      experimentId: experiment,
      createdAt: '2026-03-01T10:00:00Z',
    });
    const quiet = await f.session({
      teamId: t.teamId,
      experimentId: experiment,
      createdAt: '2026-03-01T11:00:00Z',
    });
    const [racedMessage] = await f.messages(raced.chatId, [['ai', '2026-03-01T10:00:00Z']]);
    const [quietMessage] = await f.messages(quiet.chatId, [['ai', '2026-03-01T11:00:00Z']]);
    const [v7, v8] = [await f.tag(t.teamId, 'v7'), await f.tag(t.teamId, 'v8')];
    await full([experiment]);
    // Linked before the snapshot, not refreshed yet: the precomputed versions have it.
    await f.tagMessage(quietMessage as number, v8);
    await onOneConnection(t.db, async (conn) => {
      const snapshot = await currentSnapshot(conn);
      await precomputeVersionsByChat(conn, STATCACHE_PROFILE);
      await f.tagMessage(racedMessage as number, v7);
      await refreshIncremental(t.db, {
        excludedPlatforms: EXCLUDED_PLATFORMS,
        batchChanges: 1000,
        batchExperiments: 50,
      });
      expect(await versionsOf(raced.id)).toEqual(['v7']);
      await rebuildBatch(conn, [experiment], EXCLUDED_PLATFORMS, HOURLY_SHAPE, STATCACHE_PROFILE, {
        relation: VERSIONS_BY_CHAT,
        snapshot,
        recountDiffering: true,
      });
      await clearVersionsByChat(conn);
    });
    expect(await versionsOf(raced.id)).toEqual(['v7']);
    expect(await versionsOf(quiet.id)).toEqual(['v8']);
    await expectCacheExact(t.db, { experimentIds: [experiment], batchExperiments: 50 });
  });

  it('nor the precomputed versions of a tag linked and unlinked again, both applied by a refresh meanwhile', async () => {
    // The refresh finds the versions it computes equal to the stored ones and writes nothing: the
    // session's row keeps its old xmin, and only the difference from the stored versions shows it.
    const experiment = await f.experiment(t.teamId);
    const session = await f.session({
      teamId: t.teamId,
      experimentId: experiment,
      createdAt: '2026-03-02T10:00:00Z',
    });
    const [message] = await f.messages(session.chatId, [['ai', '2026-03-02T10:00:00Z']]);
    const v9 = await f.tag(t.teamId, 'v9');
    await full([experiment]);
    await f.tagMessage(message as number, v9);
    await onOneConnection(t.db, async (conn) => {
      const snapshot = await currentSnapshot(conn);
      await precomputeVersionsByChat(conn, STATCACHE_PROFILE);
      await t.db.execute(sql`delete from chat_message_tags where message_id = ${message as number}`);
      await refreshIncremental(t.db, {
        excludedPlatforms: EXCLUDED_PLATFORMS,
        batchChanges: 1000,
        batchExperiments: 50,
      });
      expect(await versionsOf(session.id)).toEqual([]);
      await rebuildBatch(conn, [experiment], EXCLUDED_PLATFORMS, HOURLY_SHAPE, STATCACHE_PROFILE, {
        relation: VERSIONS_BY_CHAT,
        snapshot,
        recountDiffering: true,
      });
      await clearVersionsByChat(conn);
    });
    expect(await versionsOf(session.id)).toEqual([]);
    await expectCacheExact(t.db, { experimentIds: [experiment], batchExperiments: 50 });
  });
});

describe('batches', () => {
  it('gives identical buckets with batches of 1, 7 and 1000 experiments', async () => {
    await seedWorkload(t.db, { seed: 7, size: workloadSize(8_000, { experiments: 23 }) });
    await full(undefined, 1);
    const one = await allBuckets();
    await full(undefined, 7);
    expect(await allBuckets()).toBe(one);
    await full(undefined, 1000);
    expect(await allBuckets()).toBe(one);
    await expectCacheExact(t.db);
  });

  it('gives identical buckets and versions on one lane and on three, and leaves its scratch table empty', async () => {
    await seedWorkload(t.db, { seed: 8, size: workloadSize(6_000, { experiments: 17 }) });
    const versions = async () => {
      const [row] = await queryRows<{ f: string | null; tagged: unknown }>(
        t.db,
        sql`select md5(string_agg(id || '=' || cached_experiment_versions::text, ',' order by id)) as f,
                   count(*) filter (where cardinality(cached_experiment_versions) > 0) as tagged
            from experiment_sessions`,
      );
      return { f: row?.f, tagged: toNumber(row?.tagged) };
    };
    const run = async (concurrency: number) => {
      await t.db.execute(
        sql`truncate experiment_statistics_buckets, session_statistics_buckets, statcache_refresh_runs`,
      );
      await t.db.execute(sql`update experiment_sessions set cached_experiment_versions = '{}'`);
      const result = await refreshFull(t.db, {
        excludedPlatforms: EXCLUDED_PLATFORMS,
        batchExperiments: 3,
        concurrency,
      });
      const [left] = await queryRows<{ n: unknown }>(
        t.db,
        sql`select count(*) as n from statcache_rebuild_versions`,
      );
      expect(toNumber(left?.n)).toBe(0);
      const { experiments, batches, experimentBuckets, sessionBuckets, versionsUpdated } = result;
      const written = { experiments, batches, experimentBuckets, sessionBuckets, versionsUpdated };
      return { written, buckets: await allBuckets(), versions: await versions() };
    };
    const one = await run(1);
    expect(one.versions.tagged).toBeGreaterThan(100);
    expect(one.written.experiments).toBeGreaterThanOrEqual(17);
    expect(await run(3)).toEqual(one);
    await expectCacheExact(t.db);
  });

  it('takes only the connections its pool can spare: a first build under its lock on a pool of two finishes', async () => {
    // ensureBuilt holds one connection for its lock; the rebuild gets the other and must not wait
    // for a third lane's connection, which would never come back.
    await t.db.execute(sql`truncate statcache_refresh_runs`);
    const two = createDb(t.url, { max: 2 });
    try {
      const built = await ensureBuilt(two, {
        excludedPlatforms: EXCLUDED_PLATFORMS,
        batchExperiments: 2,
        concurrency: 4,
      });
      expect(built?.experiments).toBeGreaterThan(2);
    } finally {
      await two.close();
    }
    await expectCacheExact(t.db);
  });

  it('two full refreshes at once neither double count nor fail', async () => {
    await Promise.all([full(undefined, 3), full(undefined, 5), full(undefined, 4)]);
    await expectCacheExact(t.db);
    const [row] = await queryRows<{ n: unknown }>(
      t.db,
      sql`select count(*) as n from statcache_refresh_runs`,
    );
    expect(toNumber(row?.n)).toBeGreaterThanOrEqual(3);
  });
});
