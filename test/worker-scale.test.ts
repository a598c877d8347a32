/**
 * Scale-out: two worker processes on one queue while writers insert, delete and move rows; once the
 * writers stop and the queue of changes drains, verify finds 0 mismatches, and both processes ran jobs.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { getStatus } from '../src/status/get-status.js';
import { expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';
import {
  dropPrefix,
  fastWorkerEnv,
  oneMoreRefreshEach,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const WRITE_MS = 5_000;
const t = useTestDatabase();
const prefix = uniquePrefix();
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 13, size: workloadSize(5_000, { experiments: 10 }) });
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await dropPrefix(prefix);
});

it('two workers and a stream of writes end exact', async () => {
  for (let i = 0; i < 2; i++)
    workers.push(new WorkerProcess(fastWorkerEnv(t.url, prefix, { STATCACHE_BATCH_CHANGES: '20' })));
  await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
  const until = Date.now() + WRITE_MS;
  let writes = 0;
  for (let i = 0; Date.now() < until; i++) {
    const offset = `${(i * 37) % 1500} hours`;
    if (i % 5 === 4)
      await t.db.execute(
        sql`delete from chat_messages where id = (select id from chat_messages order by id desc offset ${i % 40} limit 1)`,
      );
    else if (i % 7 === 6)
      await t.db.execute(sql`update experiment_sessions set experiment_id = (select id from experiments order by id offset ${i % 10} limit 1)
                             where id = (select id from experiment_sessions order by id offset ${(i * 13) % 200} limit 1)`);
    else
      await t.db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
        select chat_id, 'human', now() - ${offset}::interval from experiment_sessions order by id offset ${(i * 11) % 250} limit 1`);
    writes += 1;
  }
  expect(writes).toBeGreaterThan(50);
  await waitFor(async () => (await getStatus(t.db)).pending.count === 0, {
    timeoutMs: 45_000,
    what: 'the changes to drain',
  });
  await oneMoreRefreshEach(workers);
  await expectCacheExact(t.db, { batchExperiments: 10 });
  for (const w of workers)
    expect(w.logs.filter((l) => l.msg === 'job completed' && l.job === 'refresh').length).toBeGreaterThan(0);
  expect(await Promise.all(workers.map((w) => w.stop('SIGTERM')))).toEqual([0, 0]);
});
