/**
 * Two refresh loops in parallel (separate connections, like two worker processes) while writers
 * insert, delete and move rows, with a full rebuild thrown in, and then with compressions at
 * advancing `now` values too: nothing double counted, no deadlock, no change lost, no overlap.
 * After the writers stop, one last refresh and verify finds 0 mismatches.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { compress } from '../src/compress/compress.js';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { getStatus } from '../src/status/get-status.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';
import { waitFor } from './helpers/wait-for.js';

const WRITE_MS = 4_000;
/** Where the compression sweep's `now` stops at the latest: every instant written is months older. */
const SWEEP_END = new Date('2027-01-01T00:00:00Z');
/** Writes made before the full rebuild is thrown in, so it runs among writes and refreshes in flight. */
const WRITES_BEFORE_REBUILD = 20;
const t = useTestDatabase();
const pools: NodePgStatDb[] = [];

beforeAll(async () => {
  await seedWorkload(t.db, { seed: 3, size: workloadSize(10_000, { experiments: 12 }) });
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 5 });
});
afterAll(async () => {
  for (const p of pools) await p.close();
});

/** What the writers and refresh loops of one test have done so far. */
interface Progress {
  writes: number;
  changesApplied: number;
}

function connection(): NodePgStatDb {
  const db = createDb(t.url, { max: 2 });
  pools.push(db);
  return db;
}

/** One writer: a random mix of the platform's writes, each its own transaction. */
async function writer(db: NodePgStatDb, seed: number, until: number, progress?: Progress): Promise<number> {
  let n = 0;
  let x = seed;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  while (Date.now() < until) {
    const r = rand();
    const offset = `${Math.floor(rand() * 2000)} hours`;
    if (r < 0.45) {
      await db.execute(sql`insert into chat_messages (chat_id, message_type, created_at)
        select chat_id, case when ${rand()} < 0.6 then 'human' else 'ai' end, timestamptz '2026-11-01' - ${offset}::interval
        from experiment_sessions order by id offset ${Math.floor(rand() * 400)} limit 1`);
    } else if (r < 0.6) {
      await db.execute(
        sql`delete from chat_messages where id = (select id from chat_messages order by id desc offset ${Math.floor(rand() * 50)} limit 1)`,
      );
    } else if (r < 0.7) {
      await db.execute(sql`update chat_messages set created_at = created_at - ${offset}::interval
        where id = (select id from chat_messages order by id offset ${Math.floor(rand() * 5000)} limit 1)`);
    } else if (r < 0.8) {
      await db.execute(sql`update experiment_sessions set experiment_id = (select id from experiments order by id offset ${Math.floor(rand() * 12)} limit 1)
        where id = (select id from experiment_sessions order by id offset ${Math.floor(rand() * 400)} limit 1)`);
    } else if (r < 0.87) {
      await db.execute(sql`update experiment_sessions set platform = case platform when 'evaluations' then 'web' else 'evaluations' end
        where id = (select id from experiment_sessions order by id offset ${Math.floor(rand() * 400)} limit 1)`);
    } else if (r < 0.94) {
      await db.execute(sql`with c as (insert into chats (team_id) select team_id from experiments order by id limit 1 returning id, team_id)
        insert into experiment_sessions (team_id, experiment_id, participant_id, chat_id, created_at)
        select c.team_id, (select id from experiments order by id offset ${Math.floor(rand() * 12)} limit 1),
               (select id from participants order by id offset ${Math.floor(rand() * 100)} limit 1), c.id,
               timestamptz '2026-11-01' - ${offset}::interval from c`);
    } else {
      await db.execute(
        sql`delete from chats where id = (select chat_id from experiment_sessions order by id desc offset ${Math.floor(rand() * 30)} limit 1)`,
      );
    }
    n += 1;
    if (progress) progress.writes += 1;
  }
  return n;
}

async function refreshLoop(
  db: NodePgStatDb,
  isDone: () => boolean,
  now?: () => Date,
  progress?: Progress,
): Promise<number> {
  let changes = 0;
  while (!isDone()) {
    const result = await refreshIncremental(db, {
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchChanges: 50,
      batchExperiments: 5,
      bucketShape: now ? shapeAt(DEFAULT_COMPRESSION_POLICY, now()) : undefined,
    });
    changes += result.changes;
    if (progress) progress.changesApplied += result.changes;
  }
  return changes;
}

it('two refresh loops and a full rebuild alongside writers end exact', async () => {
  const until = Date.now() + WRITE_MS;
  let done = false;
  const progress: Progress = { writes: 0, changesApplied: 0 };
  const loops = [
    refreshLoop(connection(), () => done, undefined, progress),
    refreshLoop(connection(), () => done, undefined, progress),
  ];
  const writers = [writer(connection(), 1, until, progress), writer(connection(), 2, until, progress)];
  // The rebuild joins once the writers are under way and the loops are applying their changes.
  await waitFor(() => progress.writes >= WRITES_BEFORE_REBUILD && progress.changesApplied > 0, {
    timeoutMs: WRITE_MS,
    what: `${WRITES_BEFORE_REBUILD} writes and a refresh loop applying changes`,
  });
  await refreshFull(connection(), { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 3 });
  const writes = await Promise.all(writers);
  done = true;
  const applied = await Promise.all(loops);
  expect(writes[0]).toBeGreaterThan(20);
  expect(applied.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

  await refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 50,
    batchExperiments: 5,
  });
  expect((await getStatus(t.db)).pending.count).toBe(0);
  await expectCacheExact(t.db);
});

it('compressions at advancing now values, two refresh loops and writers at once end exact', async () => {
  const until = Date.now() + WRITE_MS;
  let done = false;
  // The writers' instants reach back ~2,000 hours from 2026-11-01; `now` sweeps across them so each
  // compression merges days and months the writers and refreshes are still touching.
  let now = new Date('2026-09-01T00:00:00Z');
  const loops = [
    refreshLoop(
      connection(),
      () => done,
      () => now,
    ),
    refreshLoop(
      connection(),
      () => done,
      () => now,
    ),
  ];
  const writers = [writer(connection(), 3, until), writer(connection(), 4, until)];
  const compressor = connection();
  const merged = { hour: 0, day: 0 };
  // On a loaded machine the writing time may pass before `now` reaches a month 30 days old: the
  // sweep then goes on (the refresh loops still running) until days merged or `now` is past all data.
  while (Date.now() < until || (merged.day === 0 && now < SWEEP_END)) {
    const result = await compress(compressor, {
      policy: DEFAULT_COMPRESSION_POLICY,
      now,
      batchExperiments: 4,
    });
    merged.hour += result.merged.hour.experimentBuckets + result.merged.hour.sessionBuckets;
    merged.day += result.merged.day.experimentBuckets + result.merged.day.sessionBuckets;
    now = new Date(now.getTime() + 7 * 86_400_000 + 3_600_000);
  }
  await Promise.all(writers);
  done = true;
  await Promise.all(loops);
  expect(merged.hour).toBeGreaterThan(0);
  expect(merged.day).toBeGreaterThan(0);

  await refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 50,
    batchExperiments: 5,
  });
  expect((await getStatus(t.db)).pending.count).toBe(0);
  await expectCacheExact(t.db);
});
