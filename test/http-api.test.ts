/**
 * The dashboard API: every route answers from one SQL statement (counted on the pool), sorts and
 * pages like the read helpers, answers bad parameters with a 400 naming the parameter and unknown
 * ids with a 404; /metrics exposes the cache's gauges and HTTP latency.
 */
import type { Server } from 'node:http';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import { createMetrics } from '../src/http/metrics.js';
import { getExperimentSeries } from '../src/read/get-experiment-series.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { type CountingDb, createCountingDb } from './helpers/counting-db.js';
import { liveExperimentTotals } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ built: true });
let counting: CountingDb;
let server: Server;
let base: string;
let busiest: number;
let teamId: number;

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 21, size: workloadSize(6_000, { experiments: 30, teams: 2 }) });
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 10 });
  counting = createCountingDb(t.url);
  const app = createApp({
    db: counting.db,
    metrics: createMetrics(t.db),
    excludedPlatforms: EXCLUDED_PLATFORMS,
  });
  server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address() as { port: number };
  base = `http://127.0.0.1:${address.port}`;
  const top = await listExperiments(t.db, { sortBy: 'humanMessages', limit: 1 });
  busiest = top.rows[0]?.experimentId as number;
  teamId = top.rows[0]?.teamId as number;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await counting.close();
});

/** GETs `path`; returns status, JSON body and the statements it cost. */
async function get(path: string) {
  counting.reset();
  const res = await fetch(`${base}${path}`);
  const text = await res.text();
  const body = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text;
  return { status: res.status, body, statements: counting.count() };
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value));
/** The freshness of an answer read from a cache with nothing pending (refreshed in beforeAll). */
const upToDate = () => ({
  mode: 'cached',
  refreshedAt: expect.any(String),
  pendingChanges: 0,
  oldestPendingAt: null,
  fellBack: false,
});

describe('routes answer from one statement each, their freshness included', () => {
  it('GET /api/experiments sorts and pages like listExperiments, with the total', async () => {
    for (const limit of [5, 25, 100]) {
      const r = await get(
        `/api/experiments?team=${teamId}&sort=humanMessages&order=desc&limit=${limit}&offset=2`,
      );
      expect(r.status).toBe(200);
      expect(r.statements).toBe(1);
      const expected = await listExperiments(t.db, {
        teamId,
        sortBy: 'humanMessages',
        order: 'desc',
        limit,
        offset: 2,
      });
      expect(r.body).toEqual({
        ...json({ rows: expected.rows, total: expected.total }),
        freshness: upToDate(),
      });
    }
    const all = await get('/api/experiments?sort=name&order=asc');
    expect(all.body.total).toBe(30);
    expect(all.body.rows).toHaveLength(25);
  });

  it('GET /api/experiments/:id/sessions lists sessions with versions and participant', async () => {
    for (const limit of [5, 25, 100]) {
      const r = await get(`/api/experiments/${busiest}/sessions?sort=humanMessages&limit=${limit}`);
      expect(r.status).toBe(200);
      expect(r.statements).toBe(1);
      const expected = await listSessions(t.db, { experimentId: busiest, sortBy: 'humanMessages', limit });
      expect(r.body).toEqual({
        ...json({ rows: expected.rows, total: expected.total }),
        freshness: upToDate(),
      });
      expect(Object.keys(r.body.rows[0])).toEqual(
        expect.arrayContaining([
          'sessionId',
          'humanMessages',
          'lastActivityAt',
          'experimentVersions',
          'participantIdentifier',
        ]),
      );
    }
  });

  it('GET /api/experiments/:id/series returns the buckets in time order with their sizes', async () => {
    const from = '2026-08-01T00:00:00Z';
    const to = '2026-11-02T00:00:00Z';
    const r = await get(`/api/experiments/${busiest}/series?from=${from}&to=${to}`);
    expect(r.status).toBe(200);
    expect(r.statements).toBe(1);
    expect(r.body.freshness).toEqual(upToDate());
    const expected = (
      await getExperimentSeries(t.db, [busiest], { from: new Date(from), to: new Date(to) })
    ).get(busiest);
    expect(r.body.points).toEqual(json(expected));
    expect(r.body.points.length).toBeGreaterThan(10);
    expect(r.body).toMatchObject({
      experimentId: busiest,
      from: '2026-08-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
    });
  });

  it('GET /api/series returns a page of sparklines in one statement (and its freshness)', async () => {
    const ids = (await listExperiments(t.db, { limit: 25 })).rows.map((r) => r.experimentId);
    const r = await get(
      `/api/series?experiments=${ids.join(',')}&from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z`,
    );
    expect(r.status).toBe(200);
    expect(r.statements).toBe(1);
    expect(r.body.freshness).toEqual(upToDate());
    expect(
      Object.keys(r.body.series)
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([...ids].sort((a, b) => a - b));
  });

  it('GET /api/status reports buckets, lag and the queue (absent here)', async () => {
    const r = await get('/api/status');
    expect(r.status).toBe(200);
    expect(r.statements).toBe(1);
    expect(r.body.pending).toEqual(expect.objectContaining({ count: 0, lagSeconds: 0 }));
    expect(r.body.buckets.map((b: { size: string }) => b.size)).toEqual(['hour', 'day', 'month']);
    expect(r.body.queueError).toMatch(/no queue attached/);
  });

  it('GET /healthz needs no statement', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: { ok: true }, statements: 0 });
  });

  it('GET /metrics exposes the pool, lag, pending changes, bucket counts and HTTP latency', async () => {
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^statcache_db_pool_connections \d+$/m);
    expect(r.body).toMatch(/^statcache_db_pool_idle \d+$/m);
    expect(r.body).toMatch(/^statcache_db_pool_waiting 0$/m);
    expect(r.body).toMatch(/^statcache_lag_seconds 0$/m);
    expect(r.body).toMatch(/^statcache_pending_changes 0$/m);
    expect(r.body).toMatch(/^statcache_buckets\{table="experiment",size="hour"\} \d+$/m);
    expect(r.body).toMatch(
      /statcache_http_request_duration_seconds_count\{method="GET",route="\/api\/experiments",status="200"\} \d+/,
    );
    expect(r.body).toMatch(/statcache_job_failures_total/);
  });
});

describe('bad parameters: 400 naming the parameter; unknown ids: 404', () => {
  it.each([
    [
      '/api/experiments?sort=name;drop table teams',
      'sort',
      "sort must be one of name, sessions, participants, humanMessages, lastActivity (got 'name;drop table teams')",
    ],
    ['/api/experiments?order=up', 'order', "order must be asc or desc (got 'up')"],
    ['/api/experiments?limit=-5', 'limit', "limit must be a whole number from 1 to 1000 (got '-5')"],
    ['/api/experiments?limit=1001', 'limit', "limit must be a whole number from 1 to 1000 (got '1001')"],
    [
      '/api/experiments?offset=x',
      'offset',
      "offset must be a whole number from 0 to 9007199254740991 (got 'x')",
    ],
    ['/api/experiments?team=abc', 'team', "team must be a positive whole number (got 'abc')"],
    ['/api/experiments/abc/sessions', 'id', "id must be a positive whole number (got 'abc')"],
    [
      '/api/experiments/1/sessions?sort=name',
      'sort',
      "sort must be one of id, createdAt, humanMessages, lastActivity (got 'name')",
    ],
    [
      '/api/experiments/1/series?from=2026-02-30',
      'from',
      "from must be an ISO-8601 date like 2026-11-01T00:00:00Z (got '2026-02-30')",
    ],
    [
      '/api/experiments/1/series?from=2026-11-02&to=2026-11-01',
      'from',
      'from must be before to (got from 2026-11-02T00:00:00.000Z, to 2026-11-01T00:00:00.000Z)',
    ],
    ['/api/series?experiments=1,x', 'experiments', "experiments must be a positive whole number (got 'x')"],
    ['/api/series', 'experiments', 'experiments is required: comma-separated ids like 1,2,3'],
    ['/api/experiments?fresh=yes', 'fresh', "fresh must be 1 or 0 (got 'yes')"],
    [
      '/api/experiments/1/series?from=0000-06-01T00:00:00Z',
      'from',
      "from must be a date between 1970-01-01 and 9999-12-31 (got '0000-06-01T00:00:00Z')",
    ],
    // A parameter the route does not take is refused, not ignored (a typo answered something else).
    [
      '/api/experiments?sortt=name',
      'sortt',
      "unknown parameter 'sortt': GET /api/experiments takes team, sort, order, limit, offset, fresh",
    ],
    [
      '/api/experiments/1/sessions?team=1',
      'team',
      "unknown parameter 'team': GET /api/experiments/:id/sessions takes sort, order, limit, offset, fresh",
    ],
    [
      '/api/experiments/1/series?limit=5',
      'limit',
      "unknown parameter 'limit': GET /api/experiments/:id/series takes from, to, fresh",
    ],
    [
      '/api/series?experiments=1&experiment=2',
      'experiment',
      "unknown parameter 'experiment': GET /api/series takes experiments, from, to, fresh",
    ],
    ['/api/status?verbose=1', 'verbose', "unknown parameter 'verbose': GET /api/status takes no parameters"],
    ['/metrics?format=json', 'format', "unknown parameter 'format': GET /metrics takes no parameters"],
  ])('%s', async (path, parameter, message) => {
    const r = await get(path);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { message, parameter } });
    expect(r.statements).toBe(0);
  });

  it.each([
    ['/api/experiments?team=999999', 'team', 'team 999999 not found'],
    ['/api/experiments/999999/sessions', 'id', 'experiment 999999 not found'],
    ['/api/experiments/999999/series', 'id', 'experiment 999999 not found'],
    [
      '/api/series?experiments=999999,999998',
      'experiments',
      'experiment ids 999998, 999999 not found in experiments; check the ids',
    ],
  ])('%s', async (path, parameter, message) => {
    const r = await get(path);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: { message, parameter } });
    expect(r.statements).toBe(1);
  });

  it('/api/series with one unknown id among known ones is a 404 naming it, as the single route answers', async () => {
    const r = await get(`/api/series?experiments=${busiest},999999`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({
      error: {
        message: 'experiment id 999999 not found in experiments; check the ids',
        parameter: 'experiments',
      },
    });
    expect(r.statements).toBe(1);
  });

  it('an unknown API route is a JSON 404', async () => {
    const r = await get('/api/nope');
    expect(r).toMatchObject({
      status: 404,
      body: { error: { message: 'no such API route', parameter: null } },
    });
  });
});

// Last in the file: it leaves a write pending.
describe('?fresh=1: exact now', () => {
  it('every data route recounts what a write not refreshed yet changed, and says so', async () => {
    const page = `/api/experiments?team=${teamId}&sort=humanMessages&limit=100`;
    const before = await get(page);
    const row = (body: { rows: { experimentId: number; humanMessages: number }[] }) =>
      body.rows.find((r) => r.experimentId === busiest)?.humanMessages;
    await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
      select chat_id, 'human', '2026-05-05T10:00:00Z' from experiment_sessions
      where experiment_id = ${busiest} and platform <> all(${sql.param([...EXCLUDED_PLATFORMS])}::text[]) order by id limit 1`);
    const cached = await get(page);
    expect(cached.body.freshness).toMatchObject({ mode: 'cached', pendingChanges: 1 });
    expect(row(cached.body)).toBe(row(before.body));
    const fresh = await get(`${page}&fresh=1`);
    expect(fresh.statements).toBe(2);
    expect(fresh.body.freshness).toMatchObject({ mode: 'fresh', pendingChanges: 1, fellBack: false });
    expect(row(fresh.body)).toBe((row(before.body) as number) + 1);
    expect(row(fresh.body)).toBe((await liveExperimentTotals(t.db, busiest)).humanMessages);
    const sessions = await get(`/api/experiments/${busiest}/sessions?limit=1000&fresh=1`);
    expect(sessions.body.freshness.mode).toBe('fresh');
    const series = await get(
      `/api/experiments/${busiest}/series?from=2026-05-05T00:00:00Z&to=2026-05-06T00:00:00Z&fresh=1`,
    );
    expect(series.body.freshness.mode).toBe('fresh');
    expect(
      series.body.points.reduce((n: number, p: { humanMessages: number }) => n + p.humanMessages, 0),
    ).toBeGreaterThan(0);
    const sparks = await get(
      `/api/series?experiments=${busiest}&from=2026-05-05T00:00:00Z&to=2026-05-06T00:00:00Z&fresh=1`,
    );
    expect(sparks.body.freshness.mode).toBe('fresh');
  });
});
