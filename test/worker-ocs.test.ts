/**
 * worker-scale.test.ts on Open Chat Studio's tables: two `statcache worker` processes started with
 * STATCACHE_SOURCE=ocs on one queue while a writer makes Django's writes (every NOT NULL column,
 * API sessions without a platform, sessions on published-version rows and a version row re-pointed,
 * a session deleted before its chat's messages and its chat in one transaction, tag links through
 * the generic table with the message content type). Once the writes stop and the queue of changes
 * drains, verify under the ocs profile finds 0 mismatches, every total equals a live recount by the
 * README's definitions under `ocs`, the first build ran once, and both processes ran jobs.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { queryRows, toNumber } from '../src/db/types.js';
import { migrate } from '../src/install/migrate.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { OCS_PROFILE } from '../src/source/builtin-profiles.js';
import { OcsFixture, recountOcsExperiments, recountOcsSessions } from './helpers/ocs-fixture.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, pendingChangeCount } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';
import { waitFor } from './helpers/wait-for.js';
import {
  dropPrefix,
  fastWorkerEnv,
  oneMoreRefreshEach,
  uniquePrefix,
  WorkerProcess,
} from './helpers/worker-process.js';

const WRITE_MS = 5_000;
/** The stream also stops at this many writes, so the drain (and the file's runtime) stays bounded. */
const MAX_WRITES = 1_500;
const source = OCS_PROFILE;
const MESSAGE_CT = sql`(select id from django_content_type where app_label = 'chat' and model = 'chatmessage')`;

let t: TestDatabase;
const f = new OcsFixture(() => t.db);
const prefix = uniquePrefix();
const workers: WorkerProcess[] = [];

let teamId: number;
let experiments: number[];
/** Every published-version row: the seed's (one per experiment) and the movable one. */
let versionRows: number[];
let movableVersion: number;
let participants: number[];
let versionTags: number[];

async function ids(query: ReturnType<typeof sql>): Promise<number[]> {
  return (await queryRows<{ id: unknown }>(t.db, query)).map((r) => toNumber(r.id));
}

beforeAll(async () => {
  t = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  await client.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
  await client.end();
  await migrate(t.db, { source });
  await seedWorkload(t.db, { seed: 13, size: workloadSize(5_000, { experiments: 10 }), source });
  [teamId] = (await ids(sql`select id from teams_team order by id`)) as [number];
  experiments = await ids(
    sql`select id from experiments_experiment where working_version_id is null order by id`,
  );
  // A version number above the seed's (1 each), so the row can be re-pointed to any experiment.
  movableVersion = await f.experiment(teamId, await f.user(), {
    versionOf: experiments[0] as number,
    versionNumber: 1_000,
  });
  versionRows = await ids(
    sql`select id from experiments_experiment where working_version_id is not null order by id`,
  );
  participants = await ids(sql`select id from experiments_participant order by id`);
  versionTags = await ids(
    sql`select id from annotations_tag where category = 'experiment_version' order by id`,
  );
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await dropPrefix(prefix);
  await t?.drop();
});

/** Write number `i` of the stream, made the way Django makes it; one transaction each. */
async function write(i: number): Promise<void> {
  const db = t.db;
  const offset = `${(i * 37) % 1500} hours`;
  const session = sql`(select id from experiments_experimentsession order by id offset ${(i * 13) % 200} limit 1)`;
  if (i % 5 === 4)
    // Django deletes the message; its tag rows (a generic relation, no foreign key) stay.
    await db.execute(
      sql`delete from chat_chatmessage where id = (select id from chat_chatmessage order by id desc offset ${i % 40} limit 1)`,
    );
  else if (i % 7 === 6)
    await db.execute(sql`update experiments_experimentsession set updated_at = now(),
      experiment_id = ${i % 3 === 0 ? versionRows[i % versionRows.length] : experiments[i % experiments.length]}
      where id = ${session}`);
  else if (i % 11 === 10) {
    // Django saves the chat, then the session: here an API session (no platform) on a version row.
    const created = await f.session({
      teamId,
      experimentId: versionRows[i % versionRows.length] as number,
      participantId: participants[(i * 7) % participants.length] as number,
      createdAt: new Date(Date.now() - ((i * 29) % 1500) * 3_600_000).toISOString(),
      platform: i % 2 === 0 ? null : 'whatsapp',
    });
    await f.messages(created.chatId, [
      ['human', new Date(Date.now() - ((i * 31) % 1500) * 3_600_000).toISOString()],
      ['ai', new Date().toISOString()],
    ]);
  } else if (i % 13 === 12)
    // The Collector's order, in one transaction: the session, its chat's messages, the chat.
    await db.transaction(async (tx) => {
      const [s] = await queryRows<{ chat_id: unknown }>(
        tx,
        sql`delete from experiments_experimentsession
            where id = (select id from experiments_experimentsession order by id desc offset ${i % 30} limit 1)
            returning chat_id`,
      );
      if (!s) return;
      await tx.execute(sql`delete from chat_chatmessage where chat_id = ${s.chat_id}`);
      await tx.execute(sql`delete from chat_chat where id = ${s.chat_id}`);
    });
  else if (i % 17 === 16)
    await db.execute(sql`insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
      select m.id, now(), now(), ${MESSAGE_CT}, ${versionTags[i % versionTags.length]}, ${teamId}
      from chat_chatmessage m order by m.id offset ${(i * 41) % 4000} limit 1 on conflict do nothing`);
  else if (i % 19 === 18)
    await db.execute(sql`update experiments_experimentsession set updated_at = now(),
      platform = ${[null, 'evaluations', 'web'][i % 3] ?? null} where id = ${session}`);
  else if (i % 101 === 100)
    await db.execute(sql`update experiments_experiment set updated_at = now(),
      working_version_id = ${experiments[i % experiments.length]} where id = ${movableVersion}`);
  else
    await db.execute(sql`insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
      select now() - ${offset}::interval, now(), 'human', 'text', chat_id, '{}', '{}'
      from experiments_experimentsession order by id offset ${(i * 11) % 250} limit 1`);
}

it('two workers under STATCACHE_SOURCE=ocs and a stream of Django-style writes end exact', async () => {
  for (let i = 0; i < 2; i++)
    workers.push(
      new WorkerProcess(
        fastWorkerEnv(t.url, prefix, { STATCACHE_BATCH_CHANGES: '20', STATCACHE_SOURCE: 'ocs' }),
      ),
    );
  await Promise.all(workers.map((w) => w.waitForLog((l) => l.msg === 'worker started')));
  // The first full build ran once, in one process, although both started at once.
  expect(
    workers.filter((w) => w.logs.some((l) => l.msg === 'first full build of the cache done')),
  ).toHaveLength(1);
  const until = Date.now() + WRITE_MS;
  let writes = 0;
  for (let i = 0; Date.now() < until && i < MAX_WRITES; i++) {
    await write(i);
    writes += 1;
  }
  expect(writes).toBeGreaterThan(50);
  await waitFor(async () => (await pendingChangeCount(t.db)) === 0, {
    timeoutMs: 45_000,
    what: 'the changes to drain',
  });
  await oneMoreRefreshEach(workers);
  await expectCacheExact(t.db, { batchExperiments: 10, source });

  const recounted = await recountOcsExperiments(t.db, EXCLUDED_PLATFORMS);
  expect([...recounted.keys()]).toEqual(experiments);
  const totals = await getExperimentTotals(t.db, experiments, { source });
  expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(recounted));
  for (const v of (await getExperimentTotals(t.db, versionRows, { source })).values())
    expect(v).toEqual({ sessions: 0, participants: 0, humanMessages: 0, lastActivityAt: null });
  const sessions = await recountOcsSessions(t.db);
  const sessionTotals = await getSessionTotals(t.db, [...sessions.keys()], { source });
  expect(Object.fromEntries(sessionTotals)).toEqual(Object.fromEntries(sessions));

  for (const w of workers)
    expect(w.logs.filter((l) => l.msg === 'job completed' && l.job === 'refresh').length).toBeGreaterThan(0);
  expect(await Promise.all(workers.map((w) => w.stop('SIGTERM')))).toEqual([0, 0]);
});
