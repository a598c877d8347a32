/**
 * The worker under faults, as real processes: SIGTERM during a long refresh lets it finish and exits
 * 0; kill -9 during a refresh rolls its transaction back and another worker retries the stalled job
 * to an exact end; a Redis of the test's own restarted under the worker; PostgreSQL unreachable
 * (through a proxy the test closes) fails jobs with one clear line each, then the worker carries on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { toNumber } from '../src/db/types.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { getStatus } from '../src/status/get-status.js';
import { freePort } from './helpers/free-port.js';
import { expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';
import {
  backendAlive,
  holdExperimentLocks,
  workerBatchesApplying,
  workerBatchesHeldMidClaim,
} from './helpers/worker-locks.js';
import {
  completed,
  dropPrefix,
  fastWorkerEnv,
  inspectQueue,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const t = useTestDatabase();
const prefixes: string[] = [];
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 9, size: workloadSize(4_000, { experiments: 8 }) });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  for (const p of prefixes) await dropPrefix(p);
});

function newPrefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

function startWorker(env: Record<string, string>): WorkerProcess {
  const w = new WorkerProcess(env);
  workers.push(w);
  return w;
}

async function pending(): Promise<number> {
  return (await getStatus(t.db)).pending.count;
}

/**
 * Queues a refresh that takes seconds: many late human messages in distinct (chat, hour) keys,
 * applied one change row per transaction.
 */
async function queueSlowWork(rows: number): Promise<void> {
  await t.db.execute(sql`
    insert into chat_messages (chat_id, message_type, created_at)
    select s.chat_id, 'human', timestamptz '2026-10-01' - (g * interval '1 hour')
    from generate_series(1, ${rows}) g
    cross join lateral (select chat_id from experiment_sessions order by id offset (g % 50) limit 1) s`);
}

/** Resolves once the queue has an active job named `name`; returns its id. */
async function activeJob(prefix: string, name: string): Promise<string> {
  const { queue, close } = inspectQueue(prefix);
  try {
    return await waitFor(async () => (await queue.getActive()).find((j) => j.name === name)?.id, {
      timeoutMs: 30_000,
      what: `an active ${name} job`,
    });
  } finally {
    await close();
  }
}

it('SIGTERM during a long refresh: the running job finishes, then the worker exits 0', async () => {
  const prefix = newPrefix();
  // A deadline far past the job's length, whatever the machine: this case is about finishing.
  const w = startWorker(
    fastWorkerEnv(t.url, prefix, { STATCACHE_BATCH_CHANGES: '1', STATCACHE_SHUTDOWN_TIMEOUT_MS: '120000' }),
  );
  await w.waitForLog(completed('refresh'));
  await queueSlowWork(300);
  await activeJob(prefix, 'refresh');
  // The signal must land mid-refresh: wait until a batch of it is applying (its transaction holds
  // experiment locks).
  await waitFor(async () => (await workerBatchesApplying(t.db)).length > 0, {
    timeoutMs: 30_000,
    what: 'a refresh batch of the worker holding experiment locks',
  });
  const sentAt = w.logs.length;
  expect(await w.stop('SIGTERM')).toBe(0);
  const after = w.logs.slice(sentAt).map((l) => l.msg);
  expect(after).toContain('signal received');
  // The refresh that was running completed (after the signal) before the worker stopped.
  const finished = w.logs.slice(sentAt).find((l) => l.msg === 'job completed' && l.job === 'refresh');
  expect(finished?.changesProcessed).toBeGreaterThan(0);
  expect(after).toContain('worker stopped');
  expect(await pending()).toBe(0);
  await expectCacheExact(t.db, { batchExperiments: 10 });
}, 180_000);

it('past the shutdown deadline the job is abandoned (exit 0) and retried; a second signal exits at once', async () => {
  const prefix = newPrefix();
  const env = fastWorkerEnv(t.url, prefix, {
    STATCACHE_BATCH_CHANGES: '1',
    STATCACHE_SHUTDOWN_TIMEOUT_MS: '300',
  });
  const a = startWorker(env);
  await a.waitForLog(completed('refresh'));
  await queueSlowWork(800);
  await activeJob(prefix, 'refresh');
  const sentAt = Date.now();
  expect(await a.stop('SIGTERM')).toBe(0);
  expect(Date.now() - sentAt).toBeLessThan(5_000);
  expect(a.logs.map((l) => l.msg)).toContain(
    'the running job did not finish before the deadline; it will be retried as stalled',
  );
  expect(await pending()).toBeGreaterThan(0);

  const b = startWorker({ ...env, STATCACHE_SHUTDOWN_TIMEOUT_MS: '20000' });
  await b.waitForLog((l) => l.msg === 'worker started');
  // Once a's job is found stalled, b takes it over: the queue of changes starts to shrink.
  const left = await pending();
  await waitFor(async () => (await pending()) < left - 5, { timeoutMs: 30_000, what: 'b to be mid-refresh' });
  b.child.kill('SIGTERM');
  await b.waitForLog((l) => l.msg === 'signal received');
  expect(await b.stop('SIGTERM')).toBe(1);
  expect(b.logs.map((l) => l.msg)).toContain('second signal: exiting now');

  const c = startWorker(env);
  await waitFor(async () => (await pending()) === 0, {
    timeoutMs: 120_000,
    what: 'the abandoned work to be redone',
  });
  await c.waitForLog(completed('refresh'), 30_000, c.logs.length);
  await expectCacheExact(t.db, { batchExperiments: 10 });
  expect(await c.stop('SIGTERM')).toBe(0);
}, 240_000);

it('kill -9 during a refresh: the transaction rolls back, the stalled job is retried, the end is exact', async () => {
  const prefix = newPrefix();
  const env = fastWorkerEnv(t.url, prefix, { STATCACHE_BATCH_CHANGES: '1' });
  const a = startWorker(env);
  await a.waitForLog(completed('refresh'));
  // Every experiment's lock is held while a refreshes, so its batch claims change rows and then
  // waits, in flight, until after the kill: the kill lands inside a refresh transaction, not between two.
  const locks = await holdExperimentLocks(t.url);
  let jobId: string | undefined;
  let backend: number | undefined;
  try {
    await queueSlowWork(800);
    jobId = await activeJob(prefix, 'refresh');
    backend = await waitFor(async () => (await workerBatchesHeldMidClaim(t.db))[0], {
      timeoutMs: 30_000,
      what: "a's refresh batch holding claimed statcache_changes rows and waiting for an experiment lock",
    });
    // In flight at the kill: its claim made and uncommitted, its transaction waiting on our locks.
    expect(await workerBatchesHeldMidClaim(t.db)).toContain(backend);
    await a.stop('SIGKILL');
  } finally {
    await locks.release();
  }
  // The batch's backend, its client gone, ends without a commit: its claim rolls back.
  await waitFor(async () => !(await backendAlive(t.db, backend as number)), {
    timeoutMs: 30_000,
    what: `the killed worker's backend (pid ${backend}) to end`,
  });
  expect(await pending()).toBeGreaterThan(0);
  const b = startWorker(env);
  // The killed job is found stalled (its lock expired) and runs again on the surviving worker.
  await b.waitForLog((l) => l.msg === 'job completed' && l.id === jobId, 120_000);
  await waitFor(async () => (await pending()) === 0, {
    timeoutMs: 120_000,
    what: 'the queue of changes to drain',
  });
  await expectCacheExact(t.db, { batchExperiments: 10 });
  expect(await b.stop('SIGTERM')).toBe(0);
}, 240_000);

it('a Redis restarted under a running worker: it reconnects and carries on', async () => {
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const startRedis = async (): Promise<ChildProcess> => {
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    await waitFor(
      () =>
        new Promise<boolean>((resolve) => {
          const socket = tcpConnect(port, '127.0.0.1');
          socket.once('connect', () => {
            socket.destroy();
            resolve(true);
          });
          socket.once('error', () => resolve(false));
        }),
      { timeoutMs: 10_000, what: `redis-server to listen on port ${port}` },
    );
    return child;
  };
  let redis = await startRedis();
  try {
    const w = startWorker(fastWorkerEnv(t.url, newPrefix(), { REDIS_URL: redisUrl }));
    await w.waitForLog(completed('refresh'));
    const killedAt = w.logs.length;
    redis.kill('SIGKILL');
    // Restart only once the worker has seen Redis go away.
    await w.waitForLog((l) => l.msg === 'redis connection error', 30_000, killedAt);
    const down = w.logs.length;
    redis = await startRedis();
    // It reconnects, puts the schedulers back into the empty Redis, and refreshes again.
    await w.waitForLog((l) => l.msg === 'redis connection back; schedulers upserted', 30_000, down);
    await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
                           select chat_id, 'human', now() from experiment_sessions order by id limit 3`);
    const again = await w.waitForLog(completed('refresh'), 30_000, down);
    expect(again).toBeDefined();
    await waitFor(async () => (await pending()) === 0, {
      timeoutMs: 30_000,
      what: 'the new messages to be refreshed',
    });
    await expectCacheExact(t.db, { batchExperiments: 10 });
    expect(w.child.exitCode).toBeNull();
    expect(await w.stop('SIGTERM')).toBe(0);
  } finally {
    redis.kill('SIGKILL');
  }
});

it.each([
  {
    how: 'unreachable (connections closed, the port refused)',
    cut: async (proxy: TcpProxy) => proxy.close(),
    failure: (port: number) =>
      new RegExp(
        `^cannot connect to PostgreSQL at 127\\.0\\.0\\.1:${port}/${t.name} \\(.+\\); check DATABASE_URL and that the server is running$`,
      ),
  },
  {
    how: 'accepting but never answering (a blackhole): each job fails within the connect timeout',
    cut: async (proxy: TcpProxy, port: number) => {
      await proxy.close();
      await proxy.open(port, 'silent');
    },
    failure: (port: number) =>
      `cannot connect to PostgreSQL at 127.0.0.1:${port}/${t.name} (no answer within 1000 ms; STATCACHE_PG_CONNECT_TIMEOUT_MS sets the wait); check DATABASE_URL and that the server is running`,
  },
])(
  'PostgreSQL $how: jobs fail with one clear line each, the worker stays up retrying and recovers',
  async ({ cut, failure: expected }) => {
    const viaProxy = new URL(t.url);
    const proxy = new TcpProxy(Number(viaProxy.port || 5432));
    const port = await proxy.open();
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(port);
    try {
      const w = startWorker(
        fastWorkerEnv(viaProxy.toString(), newPrefix(), { STATCACHE_PG_CONNECT_TIMEOUT_MS: '1000' }),
      );
      await w.waitForLog(completed('refresh'));
      await cut(proxy, port);
      const failure = await w.waitForLog((l) => l.msg === 'job failed', 30_000, w.logs.length);
      expect(failure.error).toMatch(expected(port));
      // Still up after a failed job: it goes on to run (and fail) the next one.
      await w.waitForLog((l) => l.msg === 'job failed', 30_000, w.logs.indexOf(failure) + 1);
      expect(w.child.exitCode).toBeNull();
      await proxy.close();
      await proxy.open(port);
      await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
                           select chat_id, 'human', now() from experiment_sessions order by id desc limit 2`);
      await w.waitForLog(completed('refresh'), 30_000, w.logs.length);
      await waitFor(async () => (await pending()) === 0, {
        timeoutMs: 30_000,
        what: 'the refresh after PostgreSQL came back',
      });
      await expectCacheExact(t.db, { batchExperiments: 10 });
      expect(await w.stop('SIGTERM')).toBe(0);
    } finally {
      await proxy.close();
    }
  },
);

/** A TCP forwarder to PostgreSQL that the test can cut (closing every connection) and restore. */
class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  constructor(private readonly targetPort: number) {}

  /** Listens on `port` (0: the OS picks); `silent` accepts connections and never answers (a blackhole). */
  open(port = 0, mode: 'forward' | 'silent' = 'forward'): Promise<number> {
    const server = createServer((client) => {
      if (mode === 'silent') {
        this.sockets.add(client);
        client.on('close', () => this.sockets.delete(client));
        client.on('error', () => client.destroy());
        return;
      }
      const upstream = tcpConnect(this.targetPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve) =>
      server.listen(port, '127.0.0.1', () => resolve(toNumber((server.address() as { port: number }).port))),
    );
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}
