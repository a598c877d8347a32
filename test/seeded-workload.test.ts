/**
 * A seeded random workload: after a full refresh, verify finds 0 mismatches and every read helper
 * equals a live recount; a tampered bucket or versions cache is caught by verify.
 */
import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { verify } from '../src/verify/verify.js';
import { liveExperimentTotals } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { createTestDatabase } from './helpers/test-db.js';

const t = useTestDatabase();

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 42, size: workloadSize(30_000, { experiments: 40, teams: 3 }) });
  // A batch size that does not divide the experiment count, so the last batch is partial.
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 7 });
});

it('seeds what it says: skewed traffic, evaluations, null participants, every AI reply tagged with its version', async () => {
  const [row] = await queryRows<Record<string, unknown>>(
    t.db,
    sql`select (select count(*) from chat_messages) as messages,
               (select count(*) from experiment_sessions where platform = 'evaluations') as evaluations,
               (select count(*) from experiment_sessions where participant_id is null) as anonymous,
               (select count(*) from chat_message_tags mt join tags g on g.id = mt.tag_id where g.category = 'experiment_version') as versions,
               (select max(n) * 1.0 / greatest(min(n), 1) from (select count(*) n from experiment_sessions group by experiment_id) x) as skew`,
  );
  expect(toNumber(row?.messages)).toBe(30_000);
  expect(toNumber(row?.evaluations)).toBeGreaterThan(0);
  expect(toNumber(row?.anonymous)).toBeGreaterThan(0);
  expect(toNumber(row?.versions)).toBeGreaterThan(0);
  expect(toNumber(row?.skew)).toBeGreaterThan(10);
  // Version tags per message type: exactly one on every AI reply, none on any other message.
  const perType = await queryRows<{ type: string; messages: unknown; tagged_once: unknown; links: unknown }>(
    t.db,
    sql`select m.message_type as type, count(*) as messages, count(*) filter (where v.n = 1) as tagged_once,
               coalesce(sum(v.n), 0) as links
        from chat_messages m
        left join lateral (select count(*) as n from chat_message_tags mt join tags g on g.id = mt.tag_id
                           where mt.message_id = m.id and g.category = 'experiment_version') v on true
        group by 1 order by 1`,
  );
  const byType = Object.fromEntries(
    perType.map((r) => [
      r.type,
      { messages: toNumber(r.messages), once: toNumber(r.tagged_once), links: toNumber(r.links) },
    ]),
  );
  expect(byType.ai?.messages).toBeGreaterThan(10_000);
  expect(byType.ai?.once).toBe(byType.ai?.messages);
  expect(byType.ai?.links).toBe(byType.ai?.messages);
  expect(byType.human?.links).toBe(0);
  expect(byType.system?.links).toBe(0);
  // Sessions mostly talk to one version; some span a publish and carry two.
  const [spread] = await queryRows<{ one: unknown; two: unknown }>(
    t.db,
    sql`select count(*) filter (where cardinality(cached_experiment_versions) = 1) as one,
               count(*) filter (where cardinality(cached_experiment_versions) = 2) as two
        from experiment_sessions`,
  );
  expect(toNumber(spread?.one)).toBeGreaterThan(toNumber(spread?.two));
  expect(toNumber(spread?.two)).toBeGreaterThan(0);
});

it('verify finds 0 mismatches after a full refresh', async () => {
  const result = await expectCacheExact(t.db, { batchExperiments: 9 });
  expect(result.checked).toEqual({ experiments: 40, sessions: 1500 });
});

it('totals of every experiment equal a live recount', async () => {
  const page = await listExperiments(t.db, { sortBy: 'humanMessages', limit: 1000 });
  expect(page.total).toBe(40);
  const totals = await getExperimentTotals(
    t.db,
    page.rows.map((r) => r.experimentId),
  );
  for (const r of page.rows) {
    const got = totals.get(r.experimentId);
    expect({
      id: r.experimentId,
      ...got,
      lastActivityAt: got?.lastActivityAt?.toISOString() ?? null,
    }).toEqual({
      id: r.experimentId,
      ...(await liveExperimentTotals(t.db, r.experimentId)),
    });
  }
});

it('is deterministic: the same seed gives the same data', async () => {
  const other = await createTestDatabase();
  try {
    await seedWorkload(other.db, { seed: 42, size: workloadSize(30_000, { experiments: 40, teams: 3 }) });
    const fingerprint = sql`select md5(string_agg(s.experiment_id || ':' || coalesce(s.participant_id, 0) || ':' || s.platform || ':' || s.created_at || ':' || m.n, ',' order by s.id)) as f
      from experiment_sessions s cross join lateral (select count(*) as n from chat_messages m where m.chat_id = s.chat_id) m`;
    const [a] = await queryRows<{ f: string }>(t.db, fingerprint);
    const [b] = await queryRows<{ f: string }>(other.db, fingerprint);
    expect(a?.f).toBe(b?.f);
  } finally {
    await other.drop();
  }
});

it('refuses to load the same seed twice, writing nothing', async () => {
  await expect(seedWorkload(t.db, { seed: 42, size: workloadSize(100) })).rejects.toThrow(
    'seed 42 is already loaded in this database; pass another --seed or use a fresh database',
  );
  const [row] = await queryRows<{ n: unknown }>(t.db, sql`select count(*) as n from chat_messages`);
  expect(toNumber(row?.n)).toBe(30_000);
});

it('verify reports a tampered bucket, a missing bucket and a stale versions cache', async () => {
  const [bucket] = await queryRows<{ experiment_id: unknown; bucket_start: unknown }>(
    t.db,
    sql`update experiment_statistics_buckets set human_message_count = human_message_count + 1
        where (experiment_id, bucket_start) = (select experiment_id, bucket_start from experiment_statistics_buckets
                                               where human_message_count > 0 order by experiment_id, bucket_start limit 1)
        returning experiment_id, bucket_start`,
  );
  await t.db.execute(sql`delete from session_statistics_buckets
    where (session_id, bucket_start) = (select session_id, bucket_start from session_statistics_buckets order by session_id, bucket_start limit 1)`);
  await t.db.execute(sql`update experiment_sessions set cached_experiment_versions = '{bogus}'
    where id = (select min(id) from experiment_sessions)`);
  const result = await verify(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 50 });
  expect(result.mismatches.map((m) => m.kind).sort()).toEqual([
    'experiment_bucket',
    'session_bucket',
    'session_versions',
  ]);
  const tampered = result.mismatches.find((m) => m.kind === 'experiment_bucket');
  expect(tampered).toMatchObject({ experimentId: toNumber(bucket?.experiment_id) });
  if (tampered?.kind === 'experiment_bucket') {
    expect((tampered.actual?.humanMessages ?? 0) - (tampered.expected?.humanMessages ?? 0)).toBe(1);
  }
  const missing = result.mismatches.find((m) => m.kind === 'session_bucket');
  expect(missing).toMatchObject({ actual: null });
  // A full refresh heals all three.
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 50 });
  await expectCacheExact(t.db);
});
