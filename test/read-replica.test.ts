/**
 * Read replicas (DATABASE_READ_URL), against a real streaming replica the test creates on loopback
 * (test/helpers/streaming-replica.ts) and a real `statcache serve`: once the replica has caught up,
 * every dashboard page read from it equals a live recount on the primary; while it lags, plain
 * answers are its own view (their freshness says so) and `?fresh=1` is exact at the primary's now;
 * `status` and /metrics report its lag; a replica that is down fails reads with one line naming
 * DATABASE_READ_URL and host:port while a worker on DATABASE_URL keeps refreshing, and reads work
 * again once it is back.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { queryRows, toDate, toNumber } from '../src/db/types.js';
import { migrate } from '../src/install/migrate.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { getReplicaStatus } from '../src/status/get-replica-status.js';
import { getStatus } from '../src/status/get-status.js';
import { runCli } from './helpers/cli.js';
import { liveExperimentTotals } from './helpers/fixtures.js';
import { recountStatcacheSessions } from './helpers/fresh-checks.js';
import { EXCLUDED_PLATFORMS, expectCacheExact } from './helpers/setup.js';
import { type StreamingPair, startStreamingPair } from './helpers/streaming-replica.js';
import { waitFor } from './helpers/wait-for.js';
import {
  completed,
  dropPrefix,
  fastWorkerEnv,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const DATABASE = 'statcache_replica';
const ALL_TIME = 'from=2000-01-01T00:00:00Z&to=2100-01-01T00:00:00Z';
const prefix = uniquePrefix();
let pair: StreamingPair;
let primary: NodePgStatDb;
/** The test's own look at the replica (its failures name DATABASE_READ_URL, as serve's do). */
let replica: NodePgStatDb;
let serve: ChildProcess | undefined;
let worker: WorkerProcess | undefined;
let base: string;
const serveLog: Record<string, unknown>[] = [];
let target: string;

/** The environment of every statcache process here: the pair, and the test's own queue prefix. */
const env = () => ({
  DATABASE_URL: pair.primaryUrl(DATABASE),
  DATABASE_READ_URL: pair.replicaUrl(DATABASE),
  STATCACHE_QUEUE_PREFIX: prefix,
  STATCACHE_PG_CONNECT_TIMEOUT_MS: '2000',
});

beforeAll(async () => {
  pair = await startStreamingPair();
  target = `127.0.0.1:${pair.replicaPort}/${DATABASE}`;
  const admin = new pg.Client({ connectionString: pair.primaryUrl('postgres') });
  await admin.connect();
  await admin.query(`create database ${DATABASE}`);
  await admin.end();
  primary = createDb(pair.primaryUrl(DATABASE), { max: 4 });
  await migrate(primary, { createSourceTables: true });
  await seedWorkload(primary, { seed: 17, size: workloadSize(3_000, { experiments: 10, teams: 2 }) });
  await refreshFull(primary, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 10 });
  await pair.caughtUp();
  // Quiet when the test stops the replica under it: the next statement reconnects.
  replica = createDb(pair.replicaUrl(DATABASE), {
    max: 2,
    urlVariable: 'DATABASE_READ_URL',
    onIdleError: () => {},
  });

  let stderr = '';
  serve = spawn(process.execPath, [resolve('bin/statcache.js'), 'serve', '--port', '0'], {
    env: { ...process.env, ...env(), LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let pending = '';
  serve.stdout?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{')) serveLog.push(JSON.parse(line));
  });
  serve.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const port = await waitFor(() => /serving on http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr)?.[1], {
    timeoutMs: 20_000,
    what: `serve to listen (stderr: ${stderr})`,
  });
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    const exited = new Promise((done) => serve?.once('exit', done));
    serve.kill('SIGTERM');
    await exited;
  }
  await worker?.stop('SIGKILL');
  await replica?.close().catch(() => {});
  await primary?.close().catch(() => {});
  await pair?.destroy();
  await dropPrefix(prefix);
});

interface Freshness {
  mode: string;
  refreshedAt: string | null;
  pendingChanges: number;
}
interface Row {
  experimentId: number;
  sessionId: number;
  sessions: number;
  participants: number;
  humanMessages: number;
  lastActivityAt: string | null;
  experimentVersions: string[];
}
interface Point {
  sessions: number;
  participants: number;
  humanMessages: number;
}

async function get<T = { rows: Row[]; total: number; freshness: Freshness }>(path: string) {
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: (await res.json()) as T };
}

async function refreshedAt(db: NodePgStatDb): Promise<string | null> {
  const [row] = await queryRows<{ at: unknown }>(
    db,
    sql`select refreshed_at as at from statcache_refresh_state`,
  );
  return toDate(row?.at)?.toISOString() ?? null;
}

/** Every page the dashboard shows, read through serve (from the replica), against the primary's live recount. */
async function expectPagesEqualPrimary(): Promise<void> {
  const teams = await queryRows<{ id: unknown }>(primary, sql`select id from teams order by id`);
  const sessionsLive = await recountStatcacheSessions(primary);
  const primaryRefreshedAt = await refreshedAt(primary);
  for (const { id } of teams) {
    const page = await get(`/api/experiments?team=${toNumber(id)}&sort=humanMessages&limit=1000`);
    expect(page.status).toBe(200);
    expect(page.body.freshness).toMatchObject({
      mode: 'cached',
      refreshedAt: primaryRefreshedAt,
      pendingChanges: 0,
    });
    const ids = page.body.rows.map((r) => r.experimentId);
    expect(ids.length).toBe(page.body.total);
    for (const row of page.body.rows) {
      const { experimentId, sessions, participants, humanMessages, lastActivityAt } = row;
      expect({ experimentId, sessions, participants, humanMessages, lastActivityAt }).toEqual({
        experimentId,
        ...(await liveExperimentTotals(primary, experimentId)),
      });
      const list = await get(`/api/experiments/${experimentId}/sessions?sort=id&limit=1000`);
      expect(list.status).toBe(200);
      for (const s of list.body.rows) {
        const live = sessionsLive.get(s.sessionId);
        expect({ id: s.sessionId, m: s.humanMessages, v: s.experimentVersions }).toEqual({
          id: s.sessionId,
          m: live?.humanMessages,
          v: live?.experimentVersions,
        });
        expect(s.lastActivityAt).toBe(live?.lastActivityAt?.toISOString() ?? null);
      }
      const trend = await get<{ points: Point[] }>(`/api/experiments/${experimentId}/series?${ALL_TIME}`);
      expect(trend.status).toBe(200);
      expect(sum(trend.body.points)).toEqual({ sessions, participants, humanMessages });
    }
    // The table's sparklines: one request for the whole page.
    const sparklines = await get<{ series: Record<string, Point[]> }>(
      `/api/series?experiments=${ids.join(',')}&${ALL_TIME}`,
    );
    expect(sparklines.status).toBe(200);
    for (const row of page.body.rows)
      expect(sum(sparklines.body.series[row.experimentId] ?? [])).toEqual({
        sessions: row.sessions,
        participants: row.participants,
        humanMessages: row.humanMessages,
      });
  }
}

function sum(points: Point[]): Point {
  const total = (k: keyof Point) => points.reduce((n, p) => n + p[k], 0);
  return {
    sessions: total('sessions'),
    participants: total('participants'),
    humanMessages: total('humanMessages'),
  };
}

/** The busiest experiment's row on its team's page, read plain or fresh. */
async function busiestRow(fresh: boolean): Promise<{ row: Row; freshness: Freshness; status: number }> {
  const [top] = await queryRows<{ id: unknown; team_id: unknown }>(
    primary,
    sql`select experiment_id as id, e.team_id from statcache_experiment_totals t join experiments e on e.id = t.experiment_id
        order by human_message_count desc, experiment_id limit 1`,
  );
  const page = await get(
    `/api/experiments?team=${toNumber(top?.team_id)}&limit=1000${fresh ? '&fresh=1' : ''}`,
  );
  const row = page.body.rows?.find((r) => r.experimentId === toNumber(top?.id)) as Row;
  return { row, freshness: page.body.freshness, status: page.status };
}

/** Human messages written on the primary into a session of the busiest experiment, one statement each. */
async function writeMessages(count: number, at: string): Promise<void> {
  const { row } = await busiestRow(true);
  for (let i = 0; i < count; i++)
    await primary.execute(sql`
      insert into chat_messages (chat_id, message_type, created_at)
      select chat_id, 'human', ${at}::timestamptz + ${i} * interval '1 minute' from experiment_sessions
      where experiment_id = ${row.experimentId} and platform <> 'evaluations' order by id limit 1`);
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  if (value === undefined) throw new Error(`no ${name} in /metrics:\n${text}`);
  return Number(value);
}

it('every dashboard page read from the caught-up replica equals a live recount on the primary', async () => {
  await expectPagesEqualPrimary();
  const status = await get<Record<string, unknown>>('/api/status');
  expect(status.body.replica).toMatchObject({ target, inRecovery: true });
  expect(status.body.replicaError).toBeNull();
});

it('while the replica lags, plain answers are its own view and fresh ones the primary’s; status and /metrics report the lag', async () => {
  await queryRows(replica, sql`select pg_wal_replay_pause()`);
  const before = await busiestRow(false);
  const replicaRefreshedAt = await refreshedAt(replica);
  // Applied on the primary (a refresh), then two more left pending there.
  await writeMessages(3, '2026-10-20T10:00:00Z');
  await refreshIncremental(primary, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 1000,
    batchExperiments: 10,
  });
  await writeMessages(2, '2026-10-21T10:00:00Z');
  const [written] = await queryRows<{ lsn: string }>(primary, sql`select pg_current_wal_lsn()::text as lsn`);
  await waitFor(
    async () => {
      const [r] = await queryRows<{ ok: boolean }>(
        replica,
        sql`select pg_get_wal_replay_pause_state() = 'paused' and pg_last_wal_receive_lsn() >= ${written?.lsn}::pg_lsn as ok`,
      );
      return r?.ok;
    },
    { timeoutMs: 30_000, what: 'the paused replica to receive the new WAL' },
  );

  const plain = await busiestRow(false);
  const live = await liveExperimentTotals(primary, plain.row.experimentId);
  expect(plain.row.humanMessages).toBe(before.row.humanMessages);
  expect(plain.row.humanMessages).toBe(
    (await liveExperimentTotals(replica, plain.row.experimentId)).humanMessages,
  );
  expect(plain.freshness).toMatchObject({
    mode: 'cached',
    refreshedAt: replicaRefreshedAt,
    pendingChanges: 0,
  });
  expect(replicaRefreshedAt).not.toBe(await refreshedAt(primary));
  const fresh = await busiestRow(true);
  expect(fresh.freshness.mode).toBe('fresh');
  expect(fresh.freshness.pendingChanges).toBeGreaterThan(0);
  expect(fresh.row.humanMessages).toBe(live.humanMessages);
  expect(live.humanMessages).toBe(before.row.humanMessages + 5);

  const cli = await runCli(['status', '--json'], pair.primaryUrl(DATABASE), env());
  expect(cli.code, cli.stderr).toBe(0);
  const status = JSON.parse(cli.stdout);
  expect(status.replica).toMatchObject({ target, inRecovery: true, caughtUp: false });
  expect(status.replica.lagSeconds).toBeGreaterThan(0);
  expect(status.replicaError).toBeNull();
  // The cache part is the primary's: the two changes left pending there.
  expect(status.pending.count).toBe((await getStatus(primary)).pending.count);
  expect(status.pending.count).toBeGreaterThan(0);
  const text = await runCli(['status'], pair.primaryUrl(DATABASE), env());
  expect(text.stdout).toMatch(
    new RegExp(
      `^replica ${target}: \\d+\\.\\d s behind \\(last replayed transaction committed \\S+\\)$`,
      'm',
    ),
  );
  expect(await metric('statcache_replica_lag_seconds')).toBeGreaterThan(0);
  // /metrics' cache gauges are the replica's view, as the dashboard's answers are.
  expect(await metric('statcache_pending_changes')).toBe(0);

  await queryRows(replica, sql`select pg_wal_replay_resume()`);
  await pair.caughtUp();
  // Caught up, the replica's view is the primary's: the refresh applied, the two changes after it pending.
  const after = await busiestRow(false);
  expect(after.row.humanMessages).toBe(before.row.humanMessages + 3);
  expect(after.freshness).toMatchObject({ mode: 'cached', refreshedAt: await refreshedAt(primary) });
  expect(after.freshness.pendingChanges).toBeGreaterThan(0);
  const caughtUp = await waitFor(
    async () => {
      const s = await getReplicaStatus(replica, target);
      return s.caughtUp && s;
    },
    { timeoutMs: 30_000, what: 'the replica to report itself caught up' },
  );
  expect(caughtUp.lagSeconds).toBe(0);
});

it('a replica that is down: reads fail naming DATABASE_READ_URL and host:port while the worker keeps refreshing; back, reads work', async () => {
  await pair.stopReplica();
  const reason = (r: string) =>
    new RegExp(
      `^cannot connect to PostgreSQL at ${target} \\(.+\\); check DATABASE_READ_URL and that the server is running$`,
    ).test(r);

  const page = await get<{ error: { message: string; requestId: string } }>('/api/experiments?limit=5');
  expect(page.status).toBe(500);
  expect(page.body.error.message).toBe('internal error');
  const logged = await waitFor(
    () => serveLog.find((l) => l.msg === 'request failed' && l.requestId === page.body.error.requestId),
    { timeoutMs: 10_000, what: 'the failed request in serve’s log' },
  );
  // pino's serializer appends the causes' messages: the line itself is statcache's one line.
  expect(logged.err).toMatchObject({
    type: 'DatabaseUnreachableError',
    variable: 'DATABASE_READ_URL',
    target,
  });
  expect(reason(String((logged.err as { message: string }).message).split(': connect ')[0] as string)).toBe(
    true,
  );
  // Fresh reads are the primary's: they still answer, as /healthz does.
  expect((await busiestRow(true)).status).toBe(200);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  const { row } = await busiestRow(true);
  const totals = await runCli(
    ['totals', '--experiment', String(row.experimentId)],
    pair.primaryUrl(DATABASE),
    env(),
  );
  expect(totals.code).toBe(1);
  expect(totals.stderr.trim().split('\n')).toHaveLength(1);
  expect(reason(totals.stderr.trim().replace(/^statcache: /, '')), totals.stderr).toBe(true);
  expect(
    (
      await runCli(
        ['totals', '--experiment', String(row.experimentId), '--fresh'],
        pair.primaryUrl(DATABASE),
        env(),
      )
    ).code,
  ).toBe(0);
  const status = await runCli(['status', '--json'], pair.primaryUrl(DATABASE), env());
  expect(status.code).toBe(1);
  const doc = JSON.parse(status.stdout);
  expect(doc.replica).toBeNull();
  expect(reason(doc.replicaError), doc.replicaError).toBe(true);
  expect(doc.buckets.length).toBeGreaterThan(0);

  // The worker uses DATABASE_URL only: it refreshes the changes pending (two from the test above, and new ones).
  await writeMessages(2, '2026-10-22T10:00:00Z');
  worker = new WorkerProcess(fastWorkerEnv(pair.primaryUrl(DATABASE), prefix, env()));
  await worker.waitForLog((l) => completed('refresh')(l) && Number(l.changesProcessed) > 0);
  await waitFor(async () => (await getStatus(primary)).pending.count === 0, {
    timeoutMs: 30_000,
    what: 'the worker to apply every pending change',
  });
  await expectCacheExact(primary);

  // Stopped, so the refresh time the pages are checked against stays put (empty refreshes move it).
  expect(await worker.stop()).toBe(0);
  await pair.startReplica();
  await pair.caughtUp();
  await expectPagesEqualPrimary();
});
