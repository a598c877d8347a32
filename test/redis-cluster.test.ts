/**
 * Redis Cluster for real: six redis-server processes on loopback (three masters, three replicas).
 * Two worker processes on it keep the cache exact while a writer inserts, deletes and moves rows;
 * the master that owns the queue's slot is killed (SIGKILL), its replica takes over, and the workers
 * carry on: every change written before, during and after is applied, verify finds the cache exact,
 * and no job ran twice at once. `enqueue`, `status` and `serve` work against the cluster; a prefix
 * without a hash tag, a REDIS_URL that is a cluster's node and an unreachable cluster are one line each.
 */
import type { ChildProcess } from 'node:child_process';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { getStatus } from '../src/status/get-status.js';
import { runCli } from './helpers/cli.js';
import { startRedisCluster, type TestRedisCluster } from './helpers/redis-cluster.js';
import { startServe } from './helpers/serve-process.js';
import { expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';
import {
  completed,
  fastWorkerEnv,
  type LogLine,
  oneMoreRefreshEach,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const t = useTestDatabase();
/** The braces make the whole prefix the hash tag: every key of the queue is in its slot. */
const prefix = `{${uniquePrefix()}}`;
/** How long the writer writes before the kill, and after the new master is in place. */
const WRITE_BEFORE_MS = 3_000;
const WRITE_AFTER_MS = 2_000;
let cluster: TestRedisCluster;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  const [started] = await Promise.all([
    startRedisCluster(),
    seedWorkload(t.db, { seed: 17, size: workloadSize(3_000, { experiments: 8 }) }),
  ]);
  cluster = started;
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await cluster?.stop();
});

/** The queue on the cluster; REDIS_URL emptied, as the two may not both be set. */
function clusterEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL: '', REDIS_CLUSTER_NODES: cluster.nodesEnv, STATCACHE_QUEUE_PREFIX: prefix, ...extra };
}

/** One write of the chat platform: mostly new messages, some deleted, some sessions moved. */
async function writeOne(i: number): Promise<void> {
  if (i % 5 === 4)
    await t.db.execute(
      sql`delete from chat_messages where id = (select id from chat_messages order by id desc offset ${i % 40} limit 1)`,
    );
  else if (i % 7 === 6)
    await t.db.execute(sql`update experiment_sessions set experiment_id = (select id from experiments order by id offset ${i % 8} limit 1)
                           where id = (select id from experiment_sessions order by id offset ${(i * 13) % 200} limit 1)`);
  else
    await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
      select chat_id, 'human', now() - ${`${(i * 37) % 1500} hours`}::interval
      from experiment_sessions order by id offset ${(i * 11) % 250} limit 1`);
}

/** A job's run on one worker, from 'job started' to 'job completed' or 'job failed' (or still running). */
interface Run {
  worker: number;
  id: string;
  job: string;
  start: number;
  end: number;
}

function runsOf(logs: readonly LogLine[], worker: number): Run[] {
  const runs: Run[] = [];
  let open: Run | null = null;
  for (const line of logs) {
    if (line.msg === 'job started') {
      if (open) runs.push(open);
      open = {
        worker,
        id: String(line.id),
        job: String(line.job),
        start: line.time,
        end: Number.POSITIVE_INFINITY,
      };
    } else if ((line.msg === 'job completed' || line.msg === 'job failed') && open?.id === String(line.id)) {
      runs.push({ ...open, end: line.time });
      open = null;
    }
  }
  if (open) runs.push(open);
  return runs;
}

/** Pairs of runs of the same job id whose spans overlap. */
function overlappingRuns(runs: readonly Run[]): [Run, Run][] {
  const overlaps: [Run, Run][] = [];
  runs.forEach((a, i) => {
    for (const b of runs.slice(i + 1))
      if (a.id === b.id && a.start < b.end && b.start < a.end) overlaps.push([a, b]);
  });
  return overlaps;
}

describe('commands on Redis Cluster', () => {
  it('serve reads the queue from the cluster: /api/status and /queues', async () => {
    let child: ChildProcess | undefined;
    try {
      const serve = await startServe({ DATABASE_URL: t.url, ...clusterEnv() });
      child = serve.child;
      const base = serve.serving;
      const status = (await (await fetch(`${base}api/status`)).json()) as {
        queue: { prefix: string } | null;
        queueError: string | null;
      };
      expect([status.queueError, status.queue?.prefix]).toEqual([null, prefix]);
      const board = await fetch(`${base}queues/api/queues`);
      expect(board.status).toBe(200);
      expect(JSON.stringify(await board.json())).toContain('statcache');
    } finally {
      child?.kill('SIGTERM');
    }
  });

  it('a queue prefix without a hash tag is refused at start-up: exit 2, one line', async () => {
    const r = await runCli(['worker'], t.url, clusterEnv({ STATCACHE_QUEUE_PREFIX: 'statcache' }));
    expect([r.code, r.stderr]).toEqual([
      2,
      "statcache: STATCACHE_QUEUE_PREFIX must contain a hash tag like {statcache} on Redis Cluster (REDIS_CLUSTER_NODES is set), so that all of the queue's keys live in one slot (got 'statcache')\n",
    ]);
  });

  it('REDIS_URL pointing at a cluster node is refused: exit 2, naming REDIS_CLUSTER_NODES', async () => {
    const node = `127.0.0.1:${cluster.liveNodes()[0]?.port}`;
    const r = await runCli(['enqueue', 'refresh'], t.url, {
      REDIS_URL: `redis://${node}`,
      STATCACHE_QUEUE_PREFIX: prefix,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `statcache: REDIS_URL points at a Redis Cluster node, where a single-node client reaches only the slots that node owns; unset it and set REDIS_CLUSTER_NODES to the cluster nodes instead (example: 10.0.0.1:6379,10.0.0.2:6379), with STATCACHE_QUEUE_PREFIX={statcache} (got 'redis://${node}')\n`,
    );
  });

  it('an unreachable cluster is one line naming REDIS_CLUSTER_NODES and the nodes, exit 1', async () => {
    const r = await runCli(
      ['enqueue', 'refresh'],
      t.url,
      clusterEnv({ REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2' }),
    );
    expect([r.code, r.stderr]).toEqual([
      1,
      'statcache: cannot connect to Redis Cluster at 127.0.0.1:1, 127.0.0.1:2 (ECONNREFUSED); check REDIS_CLUSTER_NODES and that the nodes are running\n',
    ]);
  });
});

describe('two workers on Redis Cluster', () => {
  it('keep the cache exact through the failover of the master that owns the queue’s slot', async () => {
    const slot = await cluster.keySlot(`${prefix}:statcache:wait`);
    const env = fastWorkerEnv(
      t.url,
      prefix,
      // Locks outlast the failover (a few seconds here), so no running job is taken for stalled.
      clusterEnv({ STATCACHE_BATCH_CHANGES: '20', STATCACHE_JOB_LOCK_MS: '15000', LOG_LEVEL: 'debug' }),
    );
    for (let i = 0; i < 2; i++) workers.push(new WorkerProcess(env));
    const started = await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
    expect(started.map((l) => [l.redis, l.redisCluster, l.prefix])).toEqual([
      [cluster.nodesEnv.replaceAll(',', ', '), true, prefix],
      [cluster.nodesEnv.replaceAll(',', ', '), true, prefix],
    ]);

    let writes = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) await writeOne(writes++);
    })();
    try {
      await new Promise((done) => setTimeout(done, WRITE_BEFORE_MS));
      await Promise.all(workers.map((w) => w.waitForLog(completed('refresh'))));

      const oldMaster = await cluster.masterOf(slot);
      const writesAtKill = writes;
      await cluster.kill(oldMaster);
      const newMaster = await cluster.waitForNewMaster(slot, oldMaster);
      expect(newMaster).not.toBe(oldMaster);
      // Both workers take jobs from the new master, while the writer goes on.
      const marks = workers.map((w) => w.logs.length);
      await Promise.all(workers.map((w, i) => w.waitForLog(completed('refresh'), 60_000, marks[i])));
      await new Promise((done) => setTimeout(done, WRITE_AFTER_MS));
      expect(writes).toBeGreaterThan(writesAtKill);
    } finally {
      writing = false;
      await writer;
    }
    expect(writes).toBeGreaterThan(100);

    await waitFor(async () => (await getStatus(t.db)).pending.count === 0, {
      timeoutMs: 60_000,
      what: 'every change to be applied',
    });
    await oneMoreRefreshEach(workers);
    await expectCacheExact(t.db, { batchExperiments: 10 });
    expect((await runCli(['verify'], t.url)).code).toBe(0);

    // A manual run goes through the cluster to a worker.
    const enqueued = await runCli(['enqueue', 'refresh', '--json'], t.url, clusterEnv());
    expect(enqueued.code, enqueued.stderr).toBe(0);
    const { id } = JSON.parse(enqueued.stdout) as { id: string };
    await waitFor(() => workers.some((w) => w.logs.some((l) => l.msg === 'job completed' && l.id === id)), {
      timeoutMs: 30_000,
      what: `the enqueued refresh (job ${id}) to complete`,
    });

    const status = await runCli(['status'], t.url, clusterEnv());
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`queue (prefix ${prefix}):`);
    expect(status.stdout).toMatch(/^refresh\s+every 300 ms/m);

    expect(await Promise.all(workers.map((w) => w.stop('SIGTERM')))).toEqual([0, 0]);
    const runs = workers.flatMap((w, i) => runsOf(w.logs, i));
    expect(runs.filter((r) => r.job === 'refresh').length).toBeGreaterThan(10);
    expect(overlappingRuns(runs)).toEqual([]);
  }, 180_000);
});
