/**
 * Fuzzing every HTTP route and parameter (fast-check): random strings (any Unicode, long, SQL,
 * percent-garbage), numbers, dates and lists, as values of the route's own parameters, of unknown
 * ones and of repeated keys, and random path ids. Every answer is a 200, or a 4xx whose JSON error
 * is one line without a stack trace or SQL; never a 5xx, never a hang; and nothing is written
 * (a checksum of every statcache and chat table is the same after as before).
 */
import type { Server } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/create-app.js';
import { createMetrics } from '../src/http/metrics.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';
import { tableChecksums } from './helpers/table-checksums.js';

const t = useTestDatabase({ built: true });
let server: Server;
let base: string;
let before: Record<string, string>;
/** STATCACHE_FUZZ_RUNS runs a deeper search locally; CI keeps the default. */
const RUNS_PER_ROUTE = Number(process.env.STATCACHE_FUZZ_RUNS ?? 150);

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 16, size: workloadSize(3_000, { experiments: 8, teams: 2 }) });
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 4 });
  // Changes left pending, so that fresh reads recount something (they must still write nothing).
  const team = await t.fixture.team();
  const experiment = await t.fixture.experiment(team);
  const session = await t.fixture.session({
    teamId: team,
    experimentId: experiment,
    createdAt: '2026-10-31T09:59:00Z',
  });
  await t.fixture.messages(session.chatId, [
    ['human', '2026-10-31T10:00:00Z'],
    ['ai', '2026-10-31T10:01:00Z'],
  ]);
  const app = createApp({ db: t.db, metrics: createMetrics(t.db), excludedPlatforms: EXCLUDED_PLATFORMS });
  server = await new Promise((done) => {
    const s = app.listen(0, '127.0.0.1', () => done(s));
  });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  before = await tableChecksums(t.db);
});
afterAll(async () => {
  await new Promise((done) => server?.close(done));
});

/** A value as a URL component: encoded text, or raw text that may be broken percent-encoding. */
const component = fc.oneof(
  { weight: 6, arbitrary: anyValue().map(encodeURIComponent) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%C0%AF', '+', '%2C%2C', '..%2F..'),
  },
);

function anyValue(): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.string({ minLength: 2000, maxLength: 4000 }),
    fc.integer().map(String),
    fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
    fc.double().map(String),
    fc.array(fc.integer({ min: -5, max: 2_000_000 }), { maxLength: 120 }).map((ids) => ids.join(',')),
    fc
      .date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true })
      .map((d) => d.toISOString()),
    fc
      .tuple(
        fc.integer({ min: -1, max: 12000 }),
        fc.integer({ min: 0, max: 14 }),
        fc.integer({ min: 0, max: 40 }),
      )
      .map(
        ([y, m, d]) =>
          `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`,
      ),
    fc.constantFrom(
      '',
      ' ',
      '1',
      '0',
      '-1',
      'true',
      'asc',
      'desc',
      'name',
      'humanMessages',
      'lastActivity',
      '2026-11-01T00:00:00Z',
      "1'; drop table teams; --",
      '1 or 1=1',
      'NaN',
      'Infinity',
      '1e3',
      '0x10',
      '[]',
      '{}',
      'null',
    ),
  );
}

interface Route {
  path: (id: string) => string;
  params: readonly string[];
}

const ROUTES: Record<string, Route> = {
  experiments: {
    path: () => '/api/experiments',
    params: ['team', 'sort', 'order', 'limit', 'offset', 'fresh'],
  },
  sessions: {
    path: (id) => `/api/experiments/${id}/sessions`,
    params: ['sort', 'order', 'limit', 'offset', 'fresh'],
  },
  trend: { path: (id) => `/api/experiments/${id}/series`, params: ['from', 'to', 'fresh'] },
  series: { path: () => '/api/series', params: ['experiments', 'from', 'to', 'fresh'] },
  status: { path: () => '/api/status', params: [] },
  metrics: { path: () => '/metrics', params: [] },
  unknown: { path: (id) => `/api/${id}`, params: [] },
};

/** A path id: mostly small numbers (some name experiments), else anything. */
const pathId = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 12 }).map(String) },
  { weight: 2, arbitrary: component },
);

function queryOf(route: Route): fc.Arbitrary<string> {
  const key = fc.oneof(
    {
      weight: route.params.length > 0 ? 8 : 0,
      arbitrary: fc.constantFrom(...(route.params.length ? route.params : ['x'])),
    },
    { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('limit[]', 'sort[0]', 'fresh[a]', '__proto__', 'constructor', 'a.b'),
    },
  );
  // Pairs may repeat a key (an error), carry an empty value, or be a bare key.
  return fc
    .array(fc.tuple(key, fc.option(component, { nil: undefined })), { maxLength: 6 })
    .map((pairs) => pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&'));
}

describe.each(Object.keys(ROUTES))('GET %s', (name) => {
  const route = ROUTES[name] as Route;
  it('answers 200 or a one-line 4xx, never a 5xx, a stack trace or a hang', async () => {
    await fc.assert(
      fc.asyncProperty(pathId, queryOf(route), async (id, query) => {
        const url = `${base}${route.path(id)}${query ? `?${query}` : ''}`;
        const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
        const text = await res.text();
        expect([200, 400, 404, 431], `${url.slice(0, 300)} → ${res.status} ${text.slice(0, 300)}`).toContain(
          res.status,
        );
        // 431: a URL past Node's 16 KB header limit, refused by the HTTP parser before express.
        if (res.status === 200 || res.status === 431) return;
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        const body = JSON.parse(text) as { error: { message: string; parameter: string | null } };
        const message = body.error.message;
        expect(typeof message).toBe('string');
        // One line (so no stack trace), and no driver text: checked with plain substring tests, since
        // the message echoes the random value and a backtracking regex over kilobytes of it can hang.
        expect(message.includes('\n'), url).toBe(false);
        for (const driverText of [
          'Failed query',
          'DrizzleQueryError',
          'syntax error at or near',
          ' at Object.',
        ])
          expect(message.includes(driverText), `${url}: ${message.slice(0, 200)}`).toBe(false);
      }),
      // No shrinking: a counterexample of kilobytes shrinks one request at a time, for minutes.
      { numRuns: RUNS_PER_ROUTE, endOnFailure: true },
    );
  }, 300_000);
});

describe('nothing written', () => {
  it('every statcache and chat table has the checksum it had before the fuzzing', async () => {
    expect(await tableChecksums(t.db)).toEqual(before);
  });
});
