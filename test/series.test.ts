/**
 * Series helpers: every bucket of a batch of experiments or sessions that overlaps a half-open
 * range, of whatever size, oldest first, in one statement; errors naming the bad parameter.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketSize } from '../src/buckets/bucket-sizes.js';
import { bigintArray } from '../src/db/params.js';
import { queryRows, toNumber } from '../src/db/types.js';
import { InvalidInputError } from '../src/errors/error-classes.js';
import { getExperimentSeries } from '../src/read/get-experiment-series.js';
import { getSessionSeries } from '../src/read/get-session-series.js';
import type { ExperimentSeriesPoint, SeriesRange, SessionSeriesPoint } from '../src/read/series-types.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { type CountingDb, createCountingDb } from './helpers/counting-db.js';
import { EXCLUDED_PLATFORMS, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true, built: true });
const f = t.fixture;
let counting: CountingDb;
/** Refreshed from fixture messages in 2026-03-10. */
let hourly: number;
let hourlySessions: { first: number; second: number };
/** Buckets of every size inserted directly, in 2028, the way compression leaves them. */
let mixed: number;
let mixedSession: number;
/** An experiment and a session without any bucket. */
let quiet: number;
let quietSession: number;

const range = (from: string, to: string): SeriesRange => ({ from: new Date(from), to: new Date(to) });

beforeAll(async () => {
  counting = createCountingDb(t.url);

  hourly = await f.experiment(t.teamId);
  const participant = await f.participant(t.teamId);
  const first = await f.session({
    teamId: t.teamId,
    experimentId: hourly,
    participantId: participant,
    createdAt: '2026-03-10T10:15:00Z',
  });
  await f.messages(first.chatId, [
    ['human', '2026-03-10T10:20:00Z'],
    ['ai', '2026-03-10T10:21:00Z'],
    ['human', '2026-03-10T10:59:59.999Z'],
    ['human', '2026-03-10T12:00:00Z'],
  ]);
  const second = await f.session({
    teamId: t.teamId,
    experimentId: hourly,
    createdAt: '2026-03-10T12:30:00Z',
  });
  await f.messages(second.chatId, [['human', '2026-03-10T12:45:00Z']]);
  hourlySessions = { first: first.id, second: second.id };
  await refreshFull(t.db, {
    experimentIds: [hourly],
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchExperiments: 10,
  });

  mixed = await f.experiment(t.teamId);
  mixedSession = (
    await f.session({ teamId: t.teamId, experimentId: mixed, createdAt: '2028-01-10T00:00:00Z' })
  ).id;
  // Shuffled on purpose: the helpers must order by bucket_start, not by insertion.
  for (const [size, start, sessions, messages, last] of [
    ['day', '2028-03-05T00:00:00Z', 3, 7, '2028-03-05T18:00:00Z'],
    ['month', '2028-02-01T00:00:00Z', 5, 40, '2028-02-29T23:59:59.999Z'],
    ['hour', '2028-03-06T10:00:00Z', 1, 2, '2028-03-06T10:30:00Z'],
    ['month', '2028-01-01T00:00:00Z', 2, 4, '2028-01-31T23:00:00Z'],
  ] as const) {
    await insertBucket(size, start, sessions, messages, last);
  }

  quiet = await f.experiment(t.teamId);
  quietSession = (
    await f.session({ teamId: t.teamId, experimentId: quiet, createdAt: '2026-03-10T10:00:00Z' })
  ).id;
});
afterAll(async () => {
  await counting.close();
});

/** One experiment bucket of `mixed` and the same bucket for `mixedSession`; bucket_end computed by PostgreSQL. */
async function insertBucket(
  size: BucketSize,
  start: string,
  sessions: number,
  messages: number,
  last: string,
) {
  const end = sql`((${start}::timestamptz at time zone 'UTC') + ('1 ' || ${size})::interval) at time zone 'UTC'`;
  await t.db.execute(sql`
    insert into experiment_statistics_buckets
      (team_id, experiment_id, bucket_size, bucket_start, bucket_end, session_count, new_participant_count,
       human_message_count, last_activity_at)
    values (${t.teamId}, ${mixed}, ${size}, ${start}::timestamptz, ${end}, ${sessions}, 1, ${messages}, ${last}::timestamptz)`);
  await t.db.execute(sql`
    insert into session_statistics_buckets
      (team_id, experiment_id, session_id, platform, bucket_size, bucket_start, bucket_end, human_message_count, last_activity_at)
    values (${t.teamId}, ${mixed}, ${mixedSession}, 'web', ${size}, ${start}::timestamptz, ${end}, ${messages}, ${last}::timestamptz)`);
}

function experimentPoint(
  bucketSize: BucketSize,
  start: string,
  end: string,
  counts: { sessions: number; participants: number; humanMessages: number },
  last: string | null,
): ExperimentSeriesPoint {
  return {
    bucketSize,
    bucketStart: new Date(start),
    bucketEnd: new Date(end),
    ...counts,
    lastActivityAt: last === null ? null : new Date(last),
  };
}

function sessionPoint(
  bucketSize: BucketSize,
  start: string,
  end: string,
  humanMessages: number,
  last: string | null,
): SessionSeriesPoint {
  return {
    bucketSize,
    bucketStart: new Date(start),
    bucketEnd: new Date(end),
    humanMessages,
    lastActivityAt: last === null ? null : new Date(last),
  };
}

const JAN = experimentPoint(
  'month',
  '2028-01-01T00:00:00Z',
  '2028-02-01T00:00:00Z',
  { sessions: 2, participants: 1, humanMessages: 4 },
  '2028-01-31T23:00:00Z',
);
const FEB = experimentPoint(
  'month',
  '2028-02-01T00:00:00Z',
  '2028-03-01T00:00:00Z',
  { sessions: 5, participants: 1, humanMessages: 40 },
  '2028-02-29T23:59:59.999Z',
);
const MAR_5 = experimentPoint(
  'day',
  '2028-03-05T00:00:00Z',
  '2028-03-06T00:00:00Z',
  { sessions: 3, participants: 1, humanMessages: 7 },
  '2028-03-05T18:00:00Z',
);
const MAR_6_10H = experimentPoint(
  'hour',
  '2028-03-06T10:00:00Z',
  '2028-03-06T11:00:00Z',
  { sessions: 1, participants: 1, humanMessages: 2 },
  '2028-03-06T10:30:00Z',
);
const HOUR_10 = experimentPoint(
  'hour',
  '2026-03-10T10:00:00Z',
  '2026-03-10T11:00:00Z',
  { sessions: 1, participants: 1, humanMessages: 2 },
  '2026-03-10T10:59:59.999Z',
);
const HOUR_12 = experimentPoint(
  'hour',
  '2026-03-10T12:00:00Z',
  '2026-03-10T13:00:00Z',
  { sessions: 1, participants: 0, humanMessages: 2 },
  '2026-03-10T12:45:00Z',
);

describe('hourly series from a full refresh', () => {
  it('equals the expected points for an experiment and its sessions', async () => {
    const day = range('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z');
    const experiments = await getExperimentSeries(t.db, [hourly], day);
    expect(experiments.get(hourly)).toEqual([HOUR_10, HOUR_12]);

    const sessions = await getSessionSeries(t.db, [hourlySessions.first, hourlySessions.second], day);
    expect([...sessions.entries()]).toEqual([
      [
        hourlySessions.first,
        [
          sessionPoint('hour', '2026-03-10T10:00:00Z', '2026-03-10T11:00:00Z', 2, '2026-03-10T10:59:59.999Z'),
          sessionPoint('hour', '2026-03-10T12:00:00Z', '2026-03-10T13:00:00Z', 1, '2026-03-10T12:00:00Z'),
        ],
      ],
      [
        hourlySessions.second,
        [sessionPoint('hour', '2026-03-10T12:00:00Z', '2026-03-10T13:00:00Z', 1, '2026-03-10T12:45:00Z')],
      ],
    ]);
  });

  it('lists the ids that name no experiment (or session) in unknownIds, apart from ids with no activity', async () => {
    const day = range('2026-03-10T00:00:00Z', '2026-03-11T00:00:00Z');
    const experiments = await getExperimentSeries(t.db, [999_999, hourly, 999_998], day);
    expect([...experiments.entries()]).toEqual([
      [999_999, []],
      [hourly, [HOUR_10, HOUR_12]],
      [999_998, []],
    ]);
    expect(experiments.unknownIds).toEqual([999_998, 999_999]);
    const quiet = await getExperimentSeries(
      t.db,
      [hourly],
      range('2020-01-01T00:00:00Z', '2020-01-02T00:00:00Z'),
    );
    expect(quiet.get(hourly)).toEqual([]);
    expect(quiet.unknownIds).toEqual([]);
    const sessions = await getSessionSeries(t.db, [hourlySessions.first, 999_999], day);
    expect(sessions.unknownIds).toEqual([999_999]);
  });

  it('leaves out hours outside the range', async () => {
    const experiments = await getExperimentSeries(
      t.db,
      [hourly],
      range('2026-03-10T11:00:00Z', '2026-03-10T13:00:00Z'),
    );
    expect(experiments.get(hourly)).toEqual([HOUR_12]);
  });
});

describe('buckets of mixed sizes', () => {
  it('come back in time order with their sizes; February 2028 ends on March 1 (leap year)', async () => {
    const all = range('2027-12-01T00:00:00Z', '2028-04-01T00:00:00Z');
    const experiments = await getExperimentSeries(t.db, [mixed], all);
    expect(experiments.get(mixed)).toEqual([JAN, FEB, MAR_5, MAR_6_10H]);
    expect(FEB.bucketEnd.toISOString()).toBe('2028-03-01T00:00:00.000Z');

    const sessions = await getSessionSeries(t.db, [mixedSession], all);
    expect(sessions.get(mixedSession)).toEqual([
      sessionPoint('month', '2028-01-01T00:00:00Z', '2028-02-01T00:00:00Z', 4, '2028-01-31T23:00:00Z'),
      sessionPoint('month', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z', 40, '2028-02-29T23:59:59.999Z'),
      sessionPoint('day', '2028-03-05T00:00:00Z', '2028-03-06T00:00:00Z', 7, '2028-03-05T18:00:00Z'),
      sessionPoint('hour', '2028-03-06T10:00:00Z', '2028-03-06T11:00:00Z', 2, '2028-03-06T10:30:00Z'),
    ]);
  });

  it('filters half-open: a bucket ending at from and one starting at to are left out', async () => {
    // February ends exactly at from; the hour ends exactly at to (and is kept).
    const march = await getExperimentSeries(
      t.db,
      [mixed],
      range('2028-03-01T00:00:00Z', '2028-03-06T11:00:00Z'),
    );
    expect(march.get(mixed)).toEqual([MAR_5, MAR_6_10H]);
    // February straddles from; the hour starts exactly at to.
    const straddle = await getExperimentSeries(
      t.db,
      [mixed],
      range('2028-02-15T00:00:00Z', '2028-03-06T10:00:00Z'),
    );
    expect(straddle.get(mixed)).toEqual([FEB, MAR_5]);
    const sessions = await getSessionSeries(
      t.db,
      [mixedSession],
      range('2028-02-15T00:00:00Z', '2028-03-06T10:00:00Z'),
    );
    expect(sessions.get(mixedSession)?.map((p) => p.bucketSize)).toEqual(['month', 'day']);
  });

  it('keeps a month that straddles both ends of a short range, up to its last millisecond', async () => {
    const inside = await getExperimentSeries(
      t.db,
      [mixed],
      range('2028-02-10T00:00:00Z', '2028-02-10T01:00:00Z'),
    );
    expect(inside.get(mixed)).toEqual([FEB]);
    // 31-day January, asked for from its last millisecond: the longest bucket still overlaps.
    const lastMs = await getExperimentSeries(
      t.db,
      [mixed],
      range('2028-01-31T23:59:59.999Z', '2028-02-01T00:00:00Z'),
    );
    expect(lastMs.get(mixed)).toEqual([JAN]);
    const between = await getExperimentSeries(
      t.db,
      [mixed],
      range('2028-03-01T00:00:00Z', '2028-03-05T00:00:00Z'),
    );
    expect(between.get(mixed)).toEqual([]);
  });
});

describe('ids', () => {
  it('maps ids without buckets to [] and keeps request order, duplicates read once', async () => {
    const years = range('2026-01-01T00:00:00Z', '2029-01-01T00:00:00Z');
    const experiments = await getExperimentSeries(t.db, [mixed, quiet, 987654321, hourly, mixed], years);
    expect([...experiments.entries()]).toEqual([
      [mixed, [JAN, FEB, MAR_5, MAR_6_10H]],
      [quiet, []],
      [987654321, []],
      [hourly, [HOUR_10, HOUR_12]],
    ]);
    const sessions = await getSessionSeries(t.db, [quietSession, mixedSession, quietSession], years);
    expect([...sessions.keys()]).toEqual([quietSession, mixedSession]);
    expect(sessions.get(quietSession)).toEqual([]);
    expect(sessions.get(mixedSession)).toHaveLength(4);
  });

  it('returns an empty map for no ids, with its freshness, in one statement', async () => {
    counting.reset();
    const empty = await getExperimentSeries(
      counting.db,
      [],
      range('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
    );
    expect(empty).toEqual(new Map());
    expect(empty.freshness.mode).toBe('cached');
    expect(counting.count()).toBe(1);
  });
});

describe('statement count', () => {
  const PAGE = 100;
  const experimentIds: number[] = [];
  const sessionIds: number[] = [];
  const window = range('2027-06-01T00:00:00Z', '2027-06-02T00:00:00Z');

  beforeAll(async () => {
    // PAGE experiments with one session each; every experiment and session gets 3 hourly buckets
    // in the window and one outside it.
    const rows = await queryRows<{ experiment_id: unknown; session_id: unknown }>(
      t.db,
      sql`
      with e as (
        insert into experiments (team_id, name)
        select ${t.teamId}, 'series ' || g from generate_series(1, ${PAGE}) g returning id
      ),
      c as (insert into chats (team_id, created_at) select ${t.teamId}, now() from e returning id),
      paired as (
        select e.id as experiment_id, c.id as chat_id
        from (select id, row_number() over (order by id) as rn from e) e
        join (select id, row_number() over (order by id) as rn from c) c using (rn)
      )
      insert into experiment_sessions (team_id, experiment_id, chat_id, created_at)
      select ${t.teamId}, experiment_id, chat_id, timestamptz '2027-06-01T00:00:00Z' from paired
      returning experiment_id, id as session_id`,
    );
    for (const row of rows) {
      experimentIds.push(toNumber(row.experiment_id));
      sessionIds.push(toNumber(row.session_id));
    }
    experimentIds.sort((a, b) => a - b);
    sessionIds.sort((a, b) => a - b);
    const hours = sql`(values (timestamptz '2027-06-01T01:00:00Z'), ('2027-06-01T05:00:00Z'), ('2027-06-01T23:00:00Z'), ('2027-06-02T00:00:00Z')) as h(start)`;
    await t.db.execute(sql`
      insert into experiment_statistics_buckets
        (team_id, experiment_id, bucket_size, bucket_start, bucket_end, session_count, human_message_count)
      select ${t.teamId}, i.id, 'hour', h.start, h.start + interval '1 hour', 1, 1
      from unnest(${bigintArray(experimentIds)}) as i(id) cross join ${hours}`);
    await t.db.execute(sql`
      insert into session_statistics_buckets
        (team_id, experiment_id, session_id, platform, bucket_size, bucket_start, bucket_end, human_message_count)
      select ${t.teamId}, s.experiment_id, s.id, s.platform, 'hour', h.start, h.start + interval '1 hour', 1
      from experiment_sessions s cross join ${hours}
      where s.id = any(${bigintArray(sessionIds)})`);
  });

  it.each([1, 25, 100])('is exactly one per helper for %i ids', async (size) => {
    counting.reset();
    const experiments = await getExperimentSeries(counting.db, experimentIds.slice(0, size), window);
    expect(counting.count()).toBe(1);
    expect(experiments.size).toBe(size);
    expect([...experiments.values()].every((points) => points.length === 3)).toBe(true);

    counting.reset();
    const sessions = await getSessionSeries(counting.db, sessionIds.slice(0, size), window);
    expect(counting.count()).toBe(1);
    expect(sessions.size).toBe(size);
    expect([...sessions.values()].every((points) => points.length === 3)).toBe(true);
  });
});

describe('invalid input', () => {
  async function expectInvalid(call: Promise<unknown>, message: string) {
    await expect(call).rejects.toBeInstanceOf(InvalidInputError);
    await expect(call).rejects.toHaveProperty('message', message);
  }

  it('rejects from at or after to', async () => {
    await expectInvalid(
      getExperimentSeries(t.db, [1], range('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')),
      'from must be before to (got from 2026-01-02T00:00:00.000Z, to 2026-01-01T00:00:00.000Z)',
    );
    await expectInvalid(
      getSessionSeries(t.db, [1], range('2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')),
      'from must be before to (got from 2026-01-01T00:00:00.000Z, to 2026-01-01T00:00:00.000Z)',
    );
    // Checked before the empty-ids shortcut.
    await expectInvalid(
      getExperimentSeries(t.db, [], range('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z')),
      'from must be before to (got from 2026-01-02T00:00:00.000Z, to 2026-01-01T00:00:00.000Z)',
    );
  });

  it('rejects dates that are not valid Dates', async () => {
    const to = new Date('2026-01-01T00:00:00Z');
    await expectInvalid(
      getExperimentSeries(t.db, [1], { from: new Date('not a date'), to }),
      "from must be a valid Date (got 'Invalid Date')",
    );
    await expectInvalid(
      getSessionSeries(t.db, [1], { from: to, to: new Date(Number.NaN) }),
      "to must be a valid Date (got 'Invalid Date')",
    );
    await expectInvalid(
      getSessionSeries(t.db, [1], { from: to, to: '2026-02-01' as unknown as Date }),
      "to must be a valid Date (got '2026-02-01')",
    );
  });

  it('rejects ids that are not positive whole numbers', async () => {
    const ok = range('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z');
    await expectInvalid(
      getExperimentSeries(t.db, [1, -2], ok),
      "experiment id must be a positive whole number (got '-2')",
    );
    await expectInvalid(
      getSessionSeries(t.db, [0], ok),
      "session id must be a positive whole number (got '0')",
    );
  });
});
