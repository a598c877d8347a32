/**
 * Buckets are UTC whatever the TimeZone: here every connection, the refresh's and the reader's,
 * runs with TimeZone America/New_York, across a DST change and a local-midnight boundary.
 */

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { queryRows } from '../src/db/types.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { ChatFixture, experimentBuckets } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase();
let ny: NodePgStatDb;

beforeAll(async () => {
  ny = createDb(`${t.url}?options=${encodeURIComponent('-c TimeZone=America/New_York')}`, { max: 2 });
});
afterAll(async () => {
  await ny.close();
});

it('really runs the session in New York time', async () => {
  const [row] = await queryRows<{ tz: string }>(ny, sql`select current_setting('TimeZone') as tz`);
  expect(row?.tz).toBe('America/New_York');
});

it('gives UTC hourly buckets and exact instants with a non-UTC session TimeZone', async () => {
  const f = new ChatFixture(ny);
  const teamId = await f.team();
  const exp = await f.experiment(teamId);
  // 2026-03-08 07:00Z is 02:00 EST → 03:00 EDT (spring forward); 04:30Z is 23:30 local the day before.
  const s = await f.session({ teamId, experimentId: exp, createdAt: '2026-03-08T04:30:00Z' });
  await f.messages(s.chatId, [
    ['human', '2026-03-08T04:59:59.999Z'],
    ['human', '2026-03-08T05:00:00Z'],
    ['human', '2026-03-08T06:59:59Z'],
    ['human', '2026-03-08T07:00:00.123Z'],
  ]);
  await refreshFull(ny, {
    experimentIds: [exp],
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: 10,
  });
  const buckets = await experimentBuckets(ny, exp);
  expect(buckets.map((b) => [b.bucketStart, b.bucketEnd, b.humanMessages])).toEqual([
    ['2026-03-08T04:00:00.000Z', '2026-03-08T05:00:00.000Z', 1],
    ['2026-03-08T05:00:00.000Z', '2026-03-08T06:00:00.000Z', 1],
    ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', 1],
    ['2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z', 1],
  ]);
  expect((await getExperimentTotals(ny, [exp])).get(exp)?.lastActivityAt).toEqual(
    new Date('2026-03-08T07:00:00.123Z'),
  );
  // The same buckets read through a UTC connection.
  expect((await experimentBuckets(t.db, exp)).map((b) => b.bucketStart)).toEqual(
    buckets.map((b) => b.bucketStart),
  );
  await expectCacheExact(ny, { experimentIds: [exp], batchExperiments: 10 });
});
