/**
 * The worker's life: schedulers upserted idempotently by three processes, a worker started before
 * `migrate` refused with the fix, `enqueue` deduplicated, drift found by verify-sample healed by the
 * next refresh, and `status` showing the queue. Real Redis, a prefix of this file's own.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { verify } from '../src/verify/verify.js';
import { runCli } from './helpers/cli.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { createEmptyDatabase } from './helpers/test-db.js';
import {
  completed,
  dropPrefix,
  fastWorkerEnv,
  inspectQueue,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const t = useTestDatabase();
const prefix = uniquePrefix();
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 5, size: workloadSize(3_000, { experiments: 6 }) });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await dropPrefix(prefix);
});

function startWorker(extra: Record<string, string> = {}): WorkerProcess {
  const w = new WorkerProcess(fastWorkerEnv(t.url, prefix, extra));
  workers.push(w);
  return w;
}

describe('schedulers', () => {
  it('three processes starting and restarting leave exactly one scheduler per job', async () => {
    const three = [startWorker(), startWorker(), startWorker()];
    const started = await Promise.all(three.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
    expect(started).toHaveLength(3);
    // The first full build ran once, in one process, although all three started at once.
    expect(
      three.filter((w) => w.logs.some((l) => l.msg === 'first full build of the cache done')),
    ).toHaveLength(1);
    const { queue, close } = inspectQueue(prefix);
    try {
      const ids = async () =>
        (await queue.getJobSchedulers(0, -1, true)).map((s) => [s.key, s.every ?? s.pattern]).sort();
      const expected = [
        ['compress', '15 0 * * *'],
        ['refresh', 300],
        ['verify-sample', '0 * * * *'],
      ];
      expect(await ids()).toEqual(expected);
      expect(await Promise.all(three.map((w) => w.stop('SIGTERM')))).toEqual([0, 0, 0]);
      // Restart two of them: still one scheduler per job.
      const again = [startWorker(), startWorker()];
      await Promise.all(again.map((w) => w.waitForLog(completed('refresh'))));
      expect(await ids()).toEqual(expected);
      expect(await Promise.all(again.map((w) => w.stop('SIGTERM')))).toEqual([0, 0]);
    } finally {
      await close();
    }
  });

  it('status shows each scheduler with its next run, the counts and the last runs', async () => {
    const r = await runCli(['status', '--json'], t.url, { STATCACHE_QUEUE_PREFIX: prefix });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.queueError).toBeNull();
    expect(status.queue.prefix).toBe(prefix);
    expect(status.queue.schedulers.map((s: { job: string }) => s.job).sort()).toEqual([
      'compress',
      'refresh',
      'verify-sample',
    ]);
    for (const s of status.queue.schedulers)
      expect(Date.parse(s.nextRunAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(status.queue.lastRuns).toContainEqual(
      expect.objectContaining({ job: 'refresh', result: 'completed', durationMs: expect.any(Number) }),
    );
    expect(status.queue.counts).toEqual(
      expect.objectContaining({ failed: 0, completed: expect.any(Number), waiting: expect.any(Number) }),
    );
    expect(status.pending).toEqual(expect.objectContaining({ count: expect.any(Number) }));
  });
});

describe('enqueue', () => {
  it('deduplicates a manual run against one already waiting', async () => {
    // No worker is running, so the first job stays waiting.
    const env = { STATCACHE_QUEUE_PREFIX: prefix };
    const first = await runCli(['enqueue', 'compress', '--json'], t.url, env);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      job: 'compress',
      deduplicated: false,
      experimentIds: null,
    });
    const second = await runCli(['enqueue', 'compress'], t.url, env);
    expect(second).toMatchObject({ code: 0 });
    expect(second.stdout).toContain(
      `compress is already waiting (job ${JSON.parse(first.stdout).id}); nothing added`,
    );
    const { queue, close } = inspectQueue(prefix);
    try {
      const waiting = (await queue.getJobs(['waiting'])).filter((j) => j.name === 'compress');
      expect(waiting).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it.each([
    [['enqueue', 'compress', '--experiment', '1'], '--experiment does not apply to compress'],
    [['enqueue', 'refresh', '--experiment', '987654'], 'experiment id 987654 not found in experiments'],
    [
      ['enqueue', 'rebuild'],
      "error: command-argument value 'rebuild' is invalid for argument 'job'. expected one of refresh, compress, verify",
    ],
  ])('rejects %j with exit 2', async (args, message) => {
    const r = await runCli(args, t.url, { STATCACHE_QUEUE_PREFIX: prefix });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('an unreachable Redis is one line naming REDIS_URL, exit 1', async () => {
    const r = await runCli(['enqueue', 'refresh'], t.url, { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'statcache: cannot connect to Redis at 127.0.0.1:1 (ECONNREFUSED); check REDIS_URL and that the server is running\n',
    );
  });
});

describe('verify-sample', () => {
  it('logs drift with its numbers and the next refresh heals it', async () => {
    await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 10 });
    const [row] = await queryRows<{ experiment_id: unknown }>(
      t.db,
      sql`update experiment_statistics_buckets set human_message_count = human_message_count + 7
          where (experiment_id, bucket_size, bucket_start) = (
            select experiment_id, bucket_size, bucket_start from experiment_statistics_buckets
            order by experiment_id, bucket_start limit 1)
          returning experiment_id`,
    );
    const experimentId = toNumber(row?.experiment_id);
    expect(
      (await verify(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 10 })).mismatches,
    ).toHaveLength(1);
    const w = startWorker();
    await w.waitForLog((l) => l.msg === 'worker started');
    const r = await runCli(['enqueue', 'verify', '--experiment', String(experimentId)], t.url, {
      STATCACHE_QUEUE_PREFIX: prefix,
    });
    expect(r.code).toBe(0);
    const warned = await w.waitForLog((l) => l.msg === 'verify-sample mismatch');
    expect(warned.mismatch).toMatchObject({ kind: 'experiment_bucket', experimentId });
    const [m] = [
      warned.mismatch as { expected: { humanMessages: number }; actual: { humanMessages: number } },
    ];
    expect(m.actual.humanMessages - m.expected.humanMessages).toBe(7);
    const done = await w.waitForLog(completed('verify-sample'));
    expect(done).toMatchObject({ mismatches: 1, experimentsQueued: 1 });
    // The queued rebuild is applied by a refresh after it.
    await w.waitForLog(completed('refresh'), 30_000, w.logs.indexOf(done));
    await w.waitForLog(completed('refresh'), 30_000, w.logs.indexOf(done) + 1);
    await expectCacheExact(t.db, { batchExperiments: 10 });
    expect(await w.stop('SIGTERM')).toBe(0);
  });
});

describe('start-up checks', () => {
  it('a worker started before migrate exits 1 saying to run statcache migrate', async () => {
    const empty = await createEmptyDatabase();
    try {
      const w = new WorkerProcess(fastWorkerEnv(empty.url, prefix));
      expect(await w.exitCode()).toBe(1);
      expect(w.stderr).toMatch(
        /^statcache: the database has 0 of statcache's \d+ migrations applied; run `statcache migrate` first\n$/,
      );
    } finally {
      await empty.drop();
    }
  });

  it('a worker whose PostgreSQL is unreachable exits 1 with one line naming DATABASE_URL', async () => {
    const w = new WorkerProcess(fastWorkerEnv('postgres://postgres@127.0.0.1:1/statcache', prefix));
    expect(await w.exitCode()).toBe(1);
    expect(w.stderr).toBe(
      'statcache: cannot connect to PostgreSQL at 127.0.0.1:1/statcache (connect ECONNREFUSED 127.0.0.1:1); check DATABASE_URL and that the server is running\n',
    );
  });

  it('a worker whose Redis is unreachable exits 1 naming REDIS_URL', async () => {
    const w = new WorkerProcess(fastWorkerEnv(t.url, prefix, { REDIS_URL: 'redis://127.0.0.1:1' }));
    expect(await w.exitCode()).toBe(1);
    expect(w.stderr).toContain(
      'statcache: cannot connect to Redis at 127.0.0.1:1 (ECONNREFUSED); check REDIS_URL and that the server is running',
    );
  });

  it('bad worker configuration exits 2 naming the variable', async () => {
    const w = new WorkerProcess(fastWorkerEnv(t.url, prefix, { STATCACHE_COMPRESS_CRON: 'often' }));
    expect(await w.exitCode()).toBe(2);
    expect(w.stderr).toContain('STATCACHE_COMPRESS_CRON must be a cron pattern of 5 fields in UTC');
  });
});
