/**
 * Read helpers: totals for whole pages in one statement each, sorting and paging in SQL with nulls
 * last, zeros for ids without buckets, and errors naming the bad option.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigintArray } from '../src/db/params.js';
import { InvalidInputError } from '../src/errors/error-classes.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { type CountingDb, createCountingDb } from './helpers/counting-db.js';
import { liveExperimentTotals } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true, built: true });
let counting: CountingDb;
let otherTeamId: number;
/** Experiments of `t.teamId`, index i has i+1 sessions; experiment ids[0] has no buckets at all. */
const ids: number[] = [];
let quiet: number;
let busySessions: number[];
const EXPERIMENTS = 120;

beforeAll(async () => {
  counting = createCountingDb(t.url);
  const f = t.fixture;
  otherTeamId = await f.team();
  await f.experiment(otherTeamId, 'someone else');
  // Names that sort differently by byte order and by count.
  quiet = await f.experiment(t.teamId, 'zz quiet');
  ids.push(quiet);
  for (let i = 1; i < EXPERIMENTS; i++)
    ids.push(await f.experiment(t.teamId, `bot ${String(i).padStart(3, '0')}`));
  // One bulk insert: experiment k (k >= 1) gets k sessions, each with one human message at hour k.
  await t.db.execute(sqlInsertSessions(ids.slice(1), t.teamId));
  const last = ids[ids.length - 1] as number;
  const page = await listSessions(t.db, { experimentId: last, limit: 1000 });
  busySessions = page.rows.map((r) => r.sessionId);
  await refreshFull(t.db, { excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 37 });
});
afterAll(async () => {
  await counting.close();
});

function sqlInsertSessions(experimentIds: number[], team: number) {
  return sql`
    with e as (select id, ordinality as k from unnest(${bigintArray(experimentIds)}) with ordinality as u(id, ordinality)),
    s as (select e.id as experiment_id, e.k, g as n from e cross join generate_series(1, e.k) g),
    c as (insert into chats (team_id, created_at) select ${team}, now() from s returning id),
    paired as (
      select s.*, c.id as chat_id from
        (select s.*, row_number() over (order by experiment_id, n) as rn from s) s
        join (select id, row_number() over (order by id) as rn from c) c using (rn)
    ),
    sessions as (
      insert into experiment_sessions (team_id, experiment_id, chat_id, created_at)
      select ${team}, experiment_id, chat_id, timestamptz '2026-01-01T00:00:00Z' + k * interval '1 hour' from paired
      returning chat_id, created_at
    )
    insert into chat_messages (chat_id, message_type, created_at)
    select chat_id, 'human', created_at + interval '1 minute' from sessions`;
}

describe('getExperimentTotals / getSessionTotals', () => {
  it('equal a live recount and read zeros for ids without buckets or unknown', async () => {
    const asked = [ids[5] as number, quiet, 987654321, ids[119] as number];
    const totals = await getExperimentTotals(t.db, asked);
    expect([...totals.keys()]).toEqual(asked);
    for (const id of [ids[5] as number, ids[119] as number]) {
      const live = await liveExperimentTotals(t.db, id);
      const got = totals.get(id);
      expect({ ...got, lastActivityAt: got?.lastActivityAt?.toISOString() ?? null }).toEqual(live);
    }
    expect(totals.get(quiet)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    expect(totals.get(987654321)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    const sessions = await getSessionTotals(t.db, [busySessions[0] as number, 987654321]);
    expect(sessions.get(busySessions[0] as number)?.humanMessages).toBe(1);
    expect(sessions.get(987654321)).toEqual({
      humanMessages: 0,
      lastActivityAt: null,
      experimentVersions: [],
    });
  });

  it('does not double count an id asked twice', async () => {
    const id = ids[10] as number;
    const totals = await getExperimentTotals(t.db, [id, id]);
    expect(totals.get(id)?.sessions).toBe(10);
  });

  it('rejects ids that are not positive whole numbers', async () => {
    await expect(getExperimentTotals(t.db, [1, -2])).rejects.toThrow(
      new InvalidInputError("experiment id must be a positive whole number (got '-2')"),
    );
    await expect(getSessionTotals(t.db, [1.5])).rejects.toThrow(InvalidInputError);
  });
});

describe('listExperiments', () => {
  it('sorts by sessions in SQL and pages without overlap, with the total count', async () => {
    const first = await listExperiments(t.db, {
      teamId: t.teamId,
      sortBy: 'sessions',
      order: 'desc',
      limit: 5,
      offset: 0,
    });
    const second = await listExperiments(t.db, {
      teamId: t.teamId,
      sortBy: 'sessions',
      order: 'desc',
      limit: 5,
      offset: 5,
    });
    expect(first.total).toBe(EXPERIMENTS);
    expect(first.rows.map((r) => r.sessions)).toEqual([119, 118, 117, 116, 115]);
    expect(second.rows.map((r) => r.sessions)).toEqual([114, 113, 112, 111, 110]);
    expect(first.rows[0]?.experimentId).toBe(ids[119]);
  });

  it('puts experiments without activity last in both orders', async () => {
    const asc = await listExperiments(t.db, {
      teamId: t.teamId,
      sortBy: 'lastActivity',
      order: 'asc',
      limit: 1000,
    });
    const desc = await listExperiments(t.db, {
      teamId: t.teamId,
      sortBy: 'lastActivity',
      order: 'desc',
      limit: 1000,
    });
    expect(asc.rows.at(-1)?.experimentId).toBe(quiet);
    expect(desc.rows.at(-1)?.experimentId).toBe(quiet);
    expect(asc.rows[0]?.experimentId).toBe(ids[1]);
    expect(desc.rows[0]?.experimentId).toBe(ids[119]);
  });

  it('sorts by name and filters by team', async () => {
    const page = await listExperiments(t.db, { teamId: t.teamId, sortBy: 'name', order: 'asc', limit: 3 });
    expect(page.rows.map((r) => r.name)).toEqual(['bot 001', 'bot 002', 'bot 003']);
    const other = await listExperiments(t.db, { teamId: otherTeamId });
    expect(other.total).toBe(1);
    expect(other.rows.map((r) => r.name)).toEqual(['someone else']);
  });

  it('returns the total count with an empty page past the end', async () => {
    const page = await listExperiments(t.db, { teamId: t.teamId, offset: 5000 });
    expect(page).toEqual({ rows: [], total: EXPERIMENTS, teamFound: true, freshness: expect.any(Object) });
  });

  it('rejects unknown sort keys, orders and limits with the option named', async () => {
    await expect(listExperiments(t.db, { sortBy: 'name; drop table teams' as 'name' })).rejects.toThrow(
      "sortBy must be one of name, sessions, participants, humanMessages, lastActivity (got 'name; drop table teams')",
    );
    await expect(listExperiments(t.db, { order: 'sideways' as 'asc' })).rejects.toThrow(
      "order must be asc or desc (got 'sideways')",
    );
    await expect(listExperiments(t.db, { limit: 0 })).rejects.toThrow(
      "limit must be a whole number from 1 to 1000 (got '0')",
    );
    await expect(listExperiments(t.db, { limit: 1001 })).rejects.toThrow(InvalidInputError);
    await expect(listExperiments(t.db, { offset: -1 })).rejects.toThrow(
      "offset must be a whole number, 0 or more (got '-1')",
    );
  });
});

describe('listSessions', () => {
  it('lists an experiment’s sessions with totals, sorted and paged', async () => {
    const exp = ids[119] as number;
    const page = await listSessions(t.db, {
      experimentId: exp,
      sortBy: 'id',
      order: 'asc',
      limit: 10,
      offset: 110,
    });
    expect(page.total).toBe(119);
    expect(page.rows).toHaveLength(9);
    expect(page.rows.every((r) => r.humanMessages === 1)).toBe(true);
    expect(page.rows.map((r) => r.sessionId)).toEqual(
      [...page.rows.map((r) => r.sessionId)].sort((a, b) => a - b),
    );
  });

  it('rejects a sort key sessions do not have', async () => {
    await expect(
      listSessions(t.db, { experimentId: ids[3] as number, sortBy: 'participants' as 'id' }),
    ).rejects.toThrow(
      "sortBy must be one of id, createdAt, humanMessages, lastActivity (got 'participants')",
    );
  });
});

describe('statement count', () => {
  it.each([5, 25, 100])('is exactly one per helper for a page of %i', async (size) => {
    const expIds = ids.slice(0, size);
    const sessionIds = busySessions.slice(0, size);
    const calls: [string, () => Promise<unknown>][] = [
      ['getExperimentTotals', () => getExperimentTotals(counting.db, expIds)],
      ['getSessionTotals', () => getSessionTotals(counting.db, sessionIds)],
      [
        'listExperiments',
        () => listExperiments(counting.db, { teamId: t.teamId, sortBy: 'humanMessages', limit: size }),
      ],
      ['listSessions', () => listSessions(counting.db, { experimentId: ids[119] as number, limit: size })],
    ];
    for (const [name, call] of calls) {
      counting.reset();
      const result = await call();
      expect({ name, statements: counting.count() }).toEqual({ name, statements: 1 });
      const rows = result instanceof Map ? result.size : (result as { rows: unknown[] }).rows.length;
      expect(rows).toBe(size);
    }
  });
});
