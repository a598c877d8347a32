/**
 * concurrent-refresh.test.ts on Open Chat Studio's tables: two refresh loops in parallel (separate
 * connections, like two worker processes) while writers make Django's writes (every NOT NULL column,
 * a session deleted before its chat's messages and its chat in one transaction, NULL platforms,
 * sessions on published-version rows and version rows re-pointed, tag links through the generic
 * table with the message content type), with a full rebuild thrown in, and then with compressions at
 * advancing `now` values too. After the writers stop, one last refresh leaves no pending change,
 * verify under the ocs profile finds 0 mismatches, and every total equals a live recount by the
 * README's definitions under `ocs`.
 *
 * Each writer owns the sessions whose id has its parity (their messages, tag links and deletion), so
 * no write of one writer hits a chat the other is deleting (Django would raise an IntegrityError
 * there); the tags and the version rows are shared.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { compress } from '../src/compress/compress.js';
import { createDb, type NodePgStatDb } from '../src/db/create-db.js';
import { type Executor, queryRows, toNumber } from '../src/db/types.js';
import { migrate } from '../src/install/migrate.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { seedWorkload } from '../src/seed/seed-workload.js';
import { workloadSize } from '../src/seed/workload-size.js';
import { OCS_PROFILE } from '../src/source/builtin-profiles.js';
import { OcsFixture, recountOcsExperiments, recountOcsSessions } from './helpers/ocs-fixture.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, pendingChangeCount } from './helpers/setup.js';
import { createEmptyDatabase, type TestDatabase } from './helpers/test-db.js';
import { waitFor } from './helpers/wait-for.js';

const WRITE_MS = 4_000;
/** Where the compression sweep's `now` stops at the latest: every instant written is months older. */
const SWEEP_END = new Date('2027-01-01T00:00:00Z');
/** Writes made before the full rebuild is thrown in, so it runs among writes and refreshes in flight. */
const WRITES_BEFORE_REBUILD = 20;
/** Writers; writer w owns the sessions with id % WRITERS = w. */
const WRITERS = 2;
/** Version rows of our own (distinct version numbers), which writers re-point between experiments. */
const MOVABLE_VERSIONS = 4;
const source = OCS_PROFILE;
const SEED_UNTIL = Date.parse('2026-11-01T00:00:00Z');
const MESSAGE_CT = sql`(select id from django_content_type where app_label = 'chat' and model = 'chatmessage')`;
const CHAT_CT = sql`(select id from django_content_type where app_label = 'chat' and model = 'chat')`;

let t: TestDatabase;
const pools: NodePgStatDb[] = [];

/** The seeded rows the writers pick from. */
interface World {
  teamId: number;
  experiments: number[];
  /** Every published-version row: the seed's (one per experiment) and ours. */
  versionRows: number[];
  movableVersions: number[];
  participants: number[];
  versionTags: number[];
}
let world: World;

async function ids(db: Executor, query: ReturnType<typeof sql>): Promise<number[]> {
  return (await queryRows<{ id: unknown }>(db, query)).map((r) => toNumber(r.id));
}

beforeAll(async () => {
  t = await createEmptyDatabase();
  const client = new pg.Client({ connectionString: t.url });
  await client.connect();
  await client.query(readFileSync(resolve('drizzle/demo/ocs-tables.sql'), 'utf8'));
  await client.end();
  await migrate(t.db, { source });
  await seedWorkload(t.db, { seed: 3, size: workloadSize(10_000, { experiments: 12 }), source });
  const f = new OcsFixture(() => t.db);
  const [teamId] = await ids(t.db, sql`select id from teams_team order by id`);
  const experiments = await ids(
    t.db,
    sql`select id from experiments_experiment where working_version_id is null order by id`,
  );
  const owner = await f.user();
  const movableVersions: number[] = [];
  for (let i = 0; i < MOVABLE_VERSIONS; i++)
    movableVersions.push(
      await f.experiment(teamId as number, owner, {
        versionOf: experiments[i] as number,
        name: `v-row-${i}`,
        // Above the seed's version rows (number 1 each), distinct, so any can be re-pointed anywhere.
        versionNumber: 1_000 + i,
      }),
    );
  world = {
    teamId: teamId as number,
    experiments,
    versionRows: await ids(
      t.db,
      sql`select id from experiments_experiment where working_version_id is not null order by id`,
    ),
    movableVersions,
    participants: await ids(t.db, sql`select id from experiments_participant order by id`),
    versionTags: await ids(
      t.db,
      sql`select id from annotations_tag where category = 'experiment_version' order by id`,
    ),
  };
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 5, source });
});
afterAll(async () => {
  for (const p of pools) await p.close();
  await t?.drop();
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

/**
 * One writer: a random mix of the writes Django makes on OCS, each its own transaction (a session's
 * deletion one transaction of three statements, as the Collector runs it).
 */
async function writer(db: NodePgStatDb, w: number, seed: number, until: number, progress?: Progress) {
  const f = new OcsFixture(() => db);
  let n = 0;
  let x = seed;
  const rand = () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)] as T;
  // Instants reach back ~2,000 hours from the seed's end, at any minute.
  const instant = () => new Date(SEED_UNTIL - Math.floor(rand() * 2000 * 60) * 60_000).toISOString();
  const platform = () => pick(['web', 'whatsapp', 'evaluations', null] as const);
  const anyExperimentRow = () => (rand() < 0.3 ? pick(world.versionRows) : pick(world.experiments));
  const ownSession = () => sql`(select id from experiments_experimentsession where id % ${WRITERS} = ${w}
                          order by id offset ${Math.floor(rand() * 280)} limit 1)`;
  const ownMessage = () => sql`(select m.id from chat_chatmessage m
      join experiments_experimentsession s on s.chat_id = m.chat_id and s.id % ${WRITERS} = ${w}
      order by m.id offset ${Math.floor(rand() * 5500)} limit 1)`;
  while (Date.now() < until) {
    const r = rand();
    if (r < 0.36) {
      const type = rand() < 0.6 ? 'human' : rand() < 0.8 ? 'ai' : 'system';
      await db.execute(sql`insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
        select ${instant()}::timestamptz, now(), ${type}, 'text', chat_id, '{}', '{}'
        from experiments_experimentsession where id = ${ownSession()}`);
    } else if (r < 0.46) {
      // Django deletes the message; its tag rows (a generic relation, no foreign key) stay.
      await db.execute(sql`delete from chat_chatmessage where id = ${ownMessage()}`);
    } else if (r < 0.53) {
      await db.execute(sql`update chat_chatmessage set created_at = ${instant()}::timestamptz, updated_at = now()
                           where id = ${ownMessage()}`);
    } else if (r < 0.56) {
      await db.execute(sql`update chat_chatmessage set updated_at = now(),
        message_type = case message_type when 'human' then 'ai' else 'human' end where id = ${ownMessage()}`);
    } else if (r < 0.63) {
      await db.execute(sql`update experiments_experimentsession set experiment_id = ${anyExperimentRow()}, updated_at = now()
                           where id = ${ownSession()}`);
    } else if (r < 0.68) {
      await db.execute(sql`update experiments_experimentsession set platform = ${platform()}, updated_at = now()
                           where id = ${ownSession()}`);
    } else if (r < 0.7) {
      await db.execute(sql`update experiments_experimentsession set participant_id = ${pick(world.participants)},
                           updated_at = now() where id = ${ownSession()}`);
    } else if (r < 0.72) {
      await db.execute(sql`update experiments_experimentsession set created_at = ${instant()}::timestamptz,
                           updated_at = now() where id = ${ownSession()}`);
    } else if (r < 0.8) {
      // Django saves the chat, then the session; only the owner of the new id writes into it.
      const at = instant();
      const session = await f.session({
        teamId: world.teamId,
        experimentId: anyExperimentRow(),
        participantId: pick(world.participants),
        createdAt: at,
        platform: platform(),
      });
      if (session.id % WRITERS === w)
        await f.messages(session.chatId, [
          ['human', at],
          ['ai', new Date(Date.parse(at) + 5_000).toISOString()],
        ]);
    } else if (r < 0.85) {
      await db.transaction(async (tx) => {
        const [s] = await queryRows<{ chat_id: unknown }>(
          tx,
          sql`delete from experiments_experimentsession where id = ${ownSession()} returning chat_id`,
        );
        if (!s) return;
        await tx.execute(sql`delete from chat_chatmessage where chat_id = ${s.chat_id}`);
        await tx.execute(sql`delete from chat_chat where id = ${s.chat_id}`);
      });
    } else if (r < 0.91) {
      const tag = pick(world.versionTags);
      if (rand() < 0.15)
        // A chat-level link: never a message tag, whatever its object id.
        await db.execute(sql`insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
          select chat_id, now(), now(), ${CHAT_CT}, ${tag}, ${world.teamId}
          from experiments_experimentsession where id = ${ownSession()} on conflict do nothing`);
      else
        await db.execute(sql`insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
          select id, now(), now(), ${MESSAGE_CT}, ${tag}, ${world.teamId}
          from chat_chatmessage where id = ${ownMessage()} on conflict do nothing`);
    } else if (r < 0.94) {
      await db.execute(sql`delete from annotations_customtaggeditem where id = (
        select l.id from annotations_customtaggeditem l join chat_chatmessage m on m.id = l.object_id
          join experiments_experimentsession s on s.chat_id = m.chat_id and s.id % ${WRITERS} = ${w}
        where l.content_type_id = ${MESSAGE_CT} order by l.id offset ${Math.floor(rand() * 200)} limit 1)`);
    } else if (r < 0.96) {
      // Names unique per writer and write across the file's tests (the tag table's unique key: each
      // test's writers have seeds of their own), natural order exercised.
      await db.execute(sql`update annotations_tag set name = ${`v${seed + 1}.${n}`}, updated_at = now()
                           where id = ${pick(world.versionTags)}`);
    } else {
      await db.execute(sql`update experiments_experiment set working_version_id = ${pick(world.experiments)},
                           updated_at = now() where id = ${pick(world.movableVersions)}`);
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
      source,
    });
    changes += result.changes;
    if (progress) progress.changesApplied += result.changes;
  }
  return changes;
}

/**
 * The last refresh, then: nothing pending, verify under the ocs profile exact, and the totals of every
 * experiment and session equal to a live recount by the README's definitions (version rows read as
 * zeros); the writes did reach NULL platforms, version-row sessions and message tag links.
 */
async function expectExactAfterLastRefresh(): Promise<void> {
  await refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 50,
    batchExperiments: 5,
    source,
  });
  expect(await pendingChangeCount(t.db)).toBe(0);
  await expectCacheExact(t.db, { source });

  const experiments = await recountOcsExperiments(t.db, EXCLUDED_PLATFORMS);
  expect([...experiments.keys()]).toEqual(world.experiments);
  const totals = await getExperimentTotals(t.db, world.experiments, { source });
  expect(Object.fromEntries(totals)).toEqual(Object.fromEntries(experiments));
  const versionTotals = await getExperimentTotals(t.db, world.versionRows, { source });
  for (const v of versionTotals.values())
    expect(v).toEqual({ sessions: 0, participants: 0, humanMessages: 0, lastActivityAt: null });
  const sessions = await recountOcsSessions(t.db);
  const sessionTotals = await getSessionTotals(t.db, [...sessions.keys()], { source });
  expect(Object.fromEntries(sessionTotals)).toEqual(Object.fromEntries(sessions));

  const [shape] = await queryRows<{ api: number; on_versions: number; tagged: number }>(
    t.db,
    sql`select (select count(*)::int from experiments_experimentsession where platform is null) as api,
               (select count(*)::int from experiments_experimentsession s join experiments_experiment e
                  on e.id = s.experiment_id where e.working_version_id is not null) as on_versions,
               (select count(*)::int from experiments_experimentsession where cached_experiment_versions <> '{}') as tagged`,
  );
  expect(shape?.api).toBeGreaterThan(0);
  expect(shape?.on_versions).toBeGreaterThan(0);
  expect(shape?.tagged).toBeGreaterThan(0);
}

it('two refresh loops and a full rebuild alongside Django-style writers end exact', async () => {
  const until = Date.now() + WRITE_MS;
  let done = false;
  const progress: Progress = { writes: 0, changesApplied: 0 };
  const loops = [
    refreshLoop(connection(), () => done, undefined, progress),
    refreshLoop(connection(), () => done, undefined, progress),
  ];
  const writers = [writer(connection(), 0, 1, until, progress), writer(connection(), 1, 2, until, progress)];
  // The rebuild joins once the writers are under way and the loops are applying their changes.
  await waitFor(() => progress.writes >= WRITES_BEFORE_REBUILD && progress.changesApplied > 0, {
    timeoutMs: WRITE_MS,
    what: `${WRITES_BEFORE_REBUILD} writes and a refresh loop applying changes`,
  });
  await refreshFull(connection(), { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 3, source });
  const writes = await Promise.all(writers);
  done = true;
  const applied = await Promise.all(loops);
  expect(writes[0]).toBeGreaterThan(20);
  expect(writes[1]).toBeGreaterThan(20);
  expect(applied.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  await expectExactAfterLastRefresh();
});

it('compressions at advancing now values, two refresh loops and Django-style writers at once end exact', async () => {
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
  const writers = [writer(connection(), 0, 3, until), writer(connection(), 1, 4, until)];
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
  const writes = await Promise.all(writers);
  done = true;
  await Promise.all(loops);
  expect(writes[0]).toBeGreaterThan(20);
  expect(merged.hour).toBeGreaterThan(0);
  expect(merged.day).toBeGreaterThan(0);
  await expectExactAfterLastRefresh();
});
