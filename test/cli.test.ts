/**
 * The CLI as users and scripts see it: JSON shapes, exit codes (0 ok, 1 failure or mismatch,
 * 2 bad usage) and one-line errors that say what to do, with nothing written on bad input.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { expectedMigrations } from '../src/install/migrations-folder.js';
import { runCli } from './helpers/cli.js';
import { useTestDatabase } from './helpers/setup.js';
import { createEmptyDatabase } from './helpers/test-db.js';

const t = useTestDatabase({ team: true, built: true });
let exp: number;
let quietExp: number;
let sessionId: number;

const refreshRuns = async () =>
  toNumber(
    (await queryRows<{ n: unknown }>(t.db, sql`select count(*) as n from statcache_refresh_runs`))[0]?.n,
  );

beforeAll(async () => {
  const { fixture: f, teamId } = t;
  exp = await f.experiment(teamId, 'Helpdesk');
  quietExp = await f.experiment(teamId, 'Quiet');
  const p = await f.participant(teamId);
  const s = await f.session({
    teamId,
    experimentId: exp,
    participantId: p,
    createdAt: '2026-04-01T09:00:00Z',
  });
  sessionId = s.id;
  const [m] = await f.messages(s.chatId, [
    ['human', '2026-04-01T09:01:00Z'],
    ['human', '2026-04-01T10:30:00.250Z'],
  ]);
  await f.tagMessage(m as number, await f.tag(teamId, 'v2'));
});

/** A row's freshness right after the full rebuild below: nothing pending. */
const UP_TO_DATE = {
  mode: 'cached',
  refreshedAt: expect.any(String),
  pendingChanges: 0,
  oldestPendingAt: null,
  fellBack: false,
};

describe('happy paths and JSON shapes', () => {
  it('refresh --full --json writes buckets in the policy shape and reports them', async () => {
    const r = await runCli(['refresh', '--full', '--json'], t.url);
    expect(r.code).toBe(0);
    // April 2026 ended more than 30 days ago: its two hours go straight into one monthly bucket.
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: 'full',
      experiments: 2,
      experimentBuckets: 1,
      sessionBuckets: 1,
    });
  });

  it('totals --json is one object per requested id, in request order', async () => {
    const r = await runCli(['totals', '--experiment', `${quietExp},${exp}`, '--json'], t.url);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        experimentId: quietExp,
        sessions: 0,
        participants: 0,
        humanMessages: 0,
        lastActivityAt: null,
        freshness: UP_TO_DATE,
      },
      {
        experimentId: exp,
        sessions: 1,
        participants: 1,
        humanMessages: 2,
        lastActivityAt: '2026-04-01T10:30:00.250Z',
        freshness: UP_TO_DATE,
      },
    ]);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version'], t.url);
    expect(r).toEqual({
      code: 0,
      stdout: `${JSON.parse(readFileSync('package.json', 'utf8')).version}\n`,
      stderr: '',
    });
  });

  it('sessions past the last row says so instead of an impossible range', async () => {
    const r = await runCli(['sessions', '--experiment', String(exp), '--offset', '1'], t.url);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('no rows at offset 1 (1 in all)');
    expect(r.stderr).not.toMatch(/rows 2-1/);
  });

  it('sessions --json lists sessions with totals and versions', async () => {
    const r = await runCli(
      ['sessions', '--experiment', String(exp), '--sort', 'humanMessages', '--limit', '5', '--json'],
      t.url,
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        sessionId,
        humanMessages: 2,
        lastActivityAt: '2026-04-01T10:30:00.250Z',
        experimentVersions: ['v2'],
        freshness: UP_TO_DATE,
      },
    ]);
  });

  it('verify --json reports what it checked and exits 0 when exact', async () => {
    const r = await runCli(['verify', '--json'], t.url);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      checked: { experiments: 2, sessions: 1 },
      mismatches: [],
      pending: [],
    });
  });

  it('status --json shows bucket counts and the last refresh', async () => {
    const r = await runCli(['status', '--json'], t.url);
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.buckets).toEqual([
      { size: 'hour', experimentBuckets: 0, sessionBuckets: 0, oldestStart: null, newestEnd: null },
      { size: 'day', experimentBuckets: 0, sessionBuckets: 0, oldestStart: null, newestEnd: null },
      {
        size: 'month',
        experimentBuckets: 1,
        sessionBuckets: 1,
        oldestStart: '2026-04-01T00:00:00.000Z',
        newestEnd: '2026-05-01T00:00:00.000Z',
      },
    ]);
    expect(status.lastRefresh).toMatchObject({ mode: 'full', experiments: 2 });
  });

  it('verify exits 1 and lists the mismatch when a bucket is wrong', async () => {
    await t.db.execute(
      sql`update experiment_statistics_buckets set session_count = 5 where experiment_id = ${exp} and session_count = 1`,
    );
    const r = await runCli(['verify', '--experiment', String(exp)], t.url);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('checked 1 experiments and 1 sessions: 1 mismatch(es)');
    expect(r.stdout).toContain(`experiment ${exp} month 2026-04-01T00:00:00.000Z: expected {"sessions":1,`);
    expect((await runCli(['refresh', '--full', '--experiment', String(exp)], t.url)).code).toBe(0);
    expect((await runCli(['verify'], t.url)).code).toBe(0);
  });
});

describe('compress', () => {
  it('--dry-run --json reports what would merge and writes nothing; the real run merges exactly that', async () => {
    const buckets = () =>
      queryRows(
        t.db,
        sql`select experiment_id, session_id, bucket_size, bucket_start::text, human_message_count
                          from session_statistics_buckets order by 1, 2, 4`,
      );
    // A late message in May, a month without buckets: the incremental refresh files it hourly.
    const [chat] = await queryRows<{ chat_id: unknown }>(
      t.db,
      sql`select chat_id from experiment_sessions where id = ${sessionId}`,
    );
    await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
                           values (${chat?.chat_id}, 'human', '2026-05-10T10:00:00Z')`);
    expect((await runCli(['refresh'], t.url)).code).toBe(0);
    const before = await buckets();
    const dry = await runCli(['compress', '--dry-run', '--now', '2026-05-12T00:00:00Z', '--json'], t.url);
    expect(dry.code).toBe(0);
    const expected = {
      now: '2026-05-12T00:00:00.000Z',
      hourlyBefore: '2026-05-11T00:00:00.000Z',
      dailyBefore: '2026-04-01T00:00:00.000Z',
      experiments: 1,
      batches: 1,
      merged: {
        hour: { experimentBuckets: 1, sessionBuckets: 1 },
        day: { experimentBuckets: 0, sessionBuckets: 0 },
      },
      written: {
        day: { experimentBuckets: 1, sessionBuckets: 1 },
        month: { experimentBuckets: 0, sessionBuckets: 0 },
      },
    };
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, ...expected });
    expect(await buckets()).toEqual(before);
    const real = await runCli(['compress', '--now', '2026-05-12T00:00:00Z', '--json'], t.url);
    expect(JSON.parse(real.stdout)).toMatchObject({ dryRun: false, ...expected });
    const again = await runCli(['compress', '--now', '2026-05-12T00:00:00Z'], t.url);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(
      'merged 0 experiment + 0 session hourly buckets into 0 experiment + 0 session daily buckets',
    );
    expect((await runCli(['verify'], t.url)).code).toBe(0);
  });
});

describe('bad input: exit 2, one line naming the problem, nothing written', () => {
  it.each([
    [
      ['totals', '--experiment', '1,x'],
      "error: option '--experiment <ids>' argument '1,x' is invalid. 'x' is not an id",
    ],
    [['totals', '--experiment', '0'], 'id 0 is out of range'],
    [['totals'], "error: required option '--experiment <ids>' not specified"],
    [
      ['sessions', '--experiment', '1', '--sort', 'name'],
      'expected one of id, createdAt, humanMessages, lastActivity',
    ],
    [['sessions', '--experiment', '1', '--limit', '-5'], 'expected a whole number from 1 to 1000'],
    [['refresh', '--fulll'], "error: unknown option '--fulll'"],
    [['frobnicate'], "error: unknown command 'frobnicate'"],
    [
      ['compress', '--now', '2026-02-30T00:00:00Z'],
      "expected an ISO-8601 date like 2026-11-01T00:00:00Z (got '2026-02-30T00:00:00Z')",
    ],
    [['compress', '--dryrun'], "error: unknown option '--dryrun'"],
    [
      ['seed', '--until', '2026-02-30T00:00:00Z'],
      "expected an ISO-8601 date like 2026-11-01T00:00:00Z (got '2026-02-30T00:00:00Z')",
    ],
    [
      ['totals', '--experiment', '1', '--experiment', '2'],
      "error: option '--experiment' was given twice; give it once (several ids as one comma-separated list: --experiment 1,2)",
    ],
    [
      ['refresh', '--full', '--experiment=1', '--experiment=2'],
      "error: option '--experiment' was given twice; give it once",
    ],
    [
      ['sessions', '--experiment', '1', '--limit', '5', '--limit', '6'],
      "error: option '--limit' was given twice; give it once",
    ],
  ])('%j', async (args, message) => {
    const before = await refreshRuns();
    const r = await runCli(args, t.url);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split('\n')[0]).toContain(message.slice(0, 20));
    expect(await refreshRuns()).toBe(before);
  });

  it('unknown experiment ids are named and nothing is refreshed', async () => {
    const before = await refreshRuns();
    const r = await runCli(['refresh', '--full', '--experiment', `${exp},999999,888888`], t.url);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toBe(
      'statcache: experiment ids 888888, 999999 not found in experiments; check the ids\n',
    );
    expect(await refreshRuns()).toBe(before);
  });

  it('a bad DATABASE_URL names the variable and shows an example', async () => {
    const r = await runCli(['status'], 'localhost:5432');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "statcache: DATABASE_URL must start with postgres:// or postgresql://; example: postgres://postgres@127.0.0.1:5432/postgres (got 'localhost:5432')\n",
    );
  });

  it('a bad batch size names the variable', async () => {
    const r = await runCli(['refresh', '--full'], t.url, { STATCACHE_BATCH_EXPERIMENTS: 'lots' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "STATCACHE_BATCH_EXPERIMENTS must be a whole number from 1 to 10000; example: 50 (got 'lots')",
    );
  });

  it('errors in --json mode still print exactly one JSON document', async () => {
    const r = await runCli(['totals', '--experiment', '424242', '--json'], t.url);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        name: 'NotFoundError',
        message: 'experiment id 424242 not found in experiments; check the ids',
      },
    });
  });
});

describe('environment failures: exit 1 with what to do', () => {
  it('an unreachable database', async () => {
    const r = await runCli(['status'], 'postgres://postgres@127.0.0.1:1/statcache');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^statcache: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/statcache \(.*ECONNREFUSED.*\); check DATABASE_URL and that the server is running\n$/,
    );
  });

  it('a database that was never migrated', async () => {
    const empty = await createEmptyDatabase();
    try {
      const r = await runCli(['totals', '--experiment', '1'], empty.url);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `statcache: the database has 0 of statcache's ${expectedMigrations().length} migrations applied; run \`statcache migrate\` first\n`,
      );
    } finally {
      await empty.drop();
    }
  });
});

describe('demo', () => {
  it('runs on embedded PGlite when DATABASE_URL is unset: seeds, refreshes, verifies exact', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'statcache-demo-'));
    try {
      const r = await runCli(['demo', '--messages', '3000', '--json'], null, {}, dir);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain('using embedded PGlite');
      const out = JSON.parse(r.stdout);
      expect(out.verify).toEqual({ checked: { experiments: 3, sessions: 150 }, mismatches: 0 });
      expect(out.experiments.length).toBe(3);
      expect(out.experiments[0].humanMessages).toBeGreaterThanOrEqual(out.experiments[1].humanMessages);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it("runs under STATCACHE_SOURCE=ocs on embedded PGlite: OCS's schema, seeded the way Django writes, exact", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'statcache-demo-ocs-'));
    try {
      const r = await runCli(
        ['demo', '--messages', '3000', '--json'],
        null,
        { STATCACHE_SOURCE: 'ocs' },
        dir,
      );
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.verify).toEqual({ checked: { experiments: 3, sessions: 150 }, mismatches: 0 });
      // The seed writes a published-version row per experiment: they are not experiments.
      expect(out.total).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
