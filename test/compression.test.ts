/**
 * Compression: whole UTC days and months only (leap February, 31-day months, the year boundary,
 * a day exactly at the cutoff and a millisecond either side), idempotent, totals unchanged, the
 * shape `refresh --full` writes equals the shape compression produces, and late data, deletes and
 * moves inside compressed ranges recount the coarse bucket from source (verify = 0, overlaps too).
 */
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CompressionPolicy, DEFAULT_COMPRESSION_POLICY, shapeAt } from '../src/buckets/shape.js';
import { type CompressResult, compress } from '../src/compress/compress.js';
import { queryRows } from '../src/db/types.js';
import { getExperimentSeries } from '../src/read/get-experiment-series.js';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { listExperiments } from '../src/read/list-experiments.js';
import { listSessions } from '../src/read/list-sessions.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { refreshIncremental } from '../src/refresh/refresh-incremental.js';
import { verify } from '../src/verify/verify.js';
import { experimentBuckets } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const POLICY: CompressionPolicy = DEFAULT_COMPRESSION_POLICY;
const t = useTestDatabase();
const f = t.fixture;
let teamId: number;

beforeEach(async () => {
  // Each case starts from empty cache tables so bucket listings are its own.
  await t.db.execute(
    sql`truncate experiment_statistics_buckets, session_statistics_buckets, statcache_experiment_totals, statcache_changes`,
  );
  teamId = await f.team();
});

const at = (iso: string) => new Date(iso);
const run = (now: string, policy: CompressionPolicy = POLICY, dryRun = false) =>
  compress(t.db, { policy, now: at(now), dryRun, batchExperiments: 2 });
const refresh = (now?: string) =>
  refreshIncremental(t.db, {
    excludedPlatforms: EXCLUDED_PLATFORMS,
    batchChanges: 5,
    batchExperiments: 3,
    bucketShape: now ? shapeAt(POLICY, at(now)) : undefined,
  });
const rebuildHourly = (experimentIds: number[]) =>
  refreshFull(t.db, { experimentIds, excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 2 });

/**
 * verify in batches of 2 experiments, like compress and the rebuilds here, so multi-experiment cases
 * span batches.
 */
async function expectExact(experimentIds: number[]) {
  await expectCacheExact(t.db, { experimentIds, batchExperiments: 2 });
}

/** Every bucket row of both tables, in a stable order, without updated_at. */
async function allBuckets() {
  return queryRows(
    t.db,
    sql`select 'e' as t, experiment_id as id, bucket_size, bucket_start::text, bucket_end::text,
               session_count, new_participant_count, human_message_count, last_activity_at::text
        from experiment_statistics_buckets
        union all
        select 's', session_id, bucket_size, bucket_start::text, bucket_end::text,
               null, null, human_message_count, last_activity_at::text
        from session_statistics_buckets
        order by 1, 2, 4, 3`,
  );
}

/** Sizes and ranges of an experiment's buckets, e.g. "day 2028-02-29T00:00:00.000Z..2028-03-01T00:00:00.000Z". */
async function shapes(experimentId: number): Promise<string[]> {
  return (await experimentBuckets(t.db, experimentId)).map(
    (b) => `${b.bucketSize} ${b.bucketStart}..${b.bucketEnd}`,
  );
}

async function sessionShapes(sessionId: number): Promise<string[]> {
  const rows = await queryRows<{ s: string }>(
    t.db,
    sql`select bucket_size || ' ' || to_char(bucket_start at time zone 'UTC', 'YYYY-MM-DD"T"HH24') || '..' ||
               to_char(bucket_end at time zone 'UTC', 'YYYY-MM-DD"T"HH24') || ' ' || human_message_count as s
        from session_statistics_buckets where session_id = ${sessionId} order by bucket_start`,
  );
  return rows.map((r) => r.s);
}

/** One experiment, one session with human messages at the given instants. */
async function sessionWith(times: string[], createdAt = times[0] as string) {
  const exp = await f.experiment(teamId);
  const p = await f.participant(teamId);
  const s = await f.session({ teamId, experimentId: exp, participantId: p, createdAt });
  const messageIds = await f.messages(
    s.chatId,
    times.map((time) => ['human', time]),
  );
  return { exp, p, s, messageIds };
}

/** What every read helper answers for these experiments. */
async function readAll(experimentIds: number[], sessionIds: number[]) {
  return {
    totals: [...(await getExperimentTotals(t.db, experimentIds))],
    sessions: [...(await getSessionTotals(t.db, sessionIds))],
    list: await listExperiments(t.db, { teamId, sortBy: 'humanMessages', limit: 100 }),
    pages: await Promise.all(
      experimentIds.map((id) =>
        listSessions(t.db, { experimentId: id, sortBy: 'humanMessages', limit: 100 }),
      ),
    ),
  };
}

describe('period boundaries', () => {
  it('merges February of a leap year (29 days) into one month ending on March 1', async () => {
    const { exp, s } = await sessionWith([
      '2028-02-01T00:00:00Z',
      '2028-02-28T23:59:59.999Z',
      '2028-02-29T00:00:00Z',
      '2028-02-29T23:59:59.999Z',
    ]);
    await rebuildHourly([exp]);
    const result = await run('2028-04-15T00:00:00Z');
    expect(await shapes(exp)).toEqual(['month 2028-02-01T00:00:00.000Z..2028-03-01T00:00:00.000Z']);
    expect(await sessionShapes(s.id)).toEqual(['month 2028-02-01T00..2028-03-01T00 4']);
    // Four hours became three days (the 1st, 28th, 29th), then one month, for each table.
    expect(result.merged.hour).toEqual({ experimentBuckets: 4, sessionBuckets: 4 });
    expect(result.written.day).toEqual({ experimentBuckets: 3, sessionBuckets: 3 });
    expect(result.merged.day).toEqual({ experimentBuckets: 3, sessionBuckets: 3 });
    expect(result.written.month).toEqual({ experimentBuckets: 1, sessionBuckets: 1 });
    const [totals] = (await getExperimentTotals(t.db, [exp])).values();
    expect(totals).toEqual({
      sessions: 1,
      participants: 1,
      humanMessages: 4,
      lastActivityAt: at('2028-02-29T23:59:59.999Z'),
    });
    await expectExact([exp]);
  });

  it('keeps the 29th of February as its own day, ending at March 1 00:00 UTC', async () => {
    const { exp } = await sessionWith(['2028-02-29T23:59:59.999Z', '2028-03-01T00:00:00Z']);
    await rebuildHourly([exp]);
    await run('2028-03-03T00:00:00Z');
    expect(await shapes(exp)).toEqual([
      'day 2028-02-29T00:00:00.000Z..2028-03-01T00:00:00.000Z',
      'day 2028-03-01T00:00:00.000Z..2028-03-02T00:00:00.000Z',
    ]);
    await expectExact([exp]);
  });

  it('merges a 31-day month, its last day included', async () => {
    const { exp } = await sessionWith([
      '2028-01-01T00:00:00Z',
      '2028-01-31T23:59:59.999Z',
      '2028-02-01T00:00:00Z',
    ]);
    await rebuildHourly([exp]);
    // Daily cutoff 2028-03-02 minus 30 days = 2028-02-01: January is whole before it, February not.
    await run('2028-03-02T00:00:00Z');
    expect(await shapes(exp)).toEqual([
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
      'day 2028-02-01T00:00:00.000Z..2028-02-02T00:00:00.000Z',
    ]);
    const [month] = await experimentBuckets(t.db, exp);
    expect(month?.humanMessages).toBe(2);
    await expectExact([exp]);
  });

  it('splits the year boundary into December and January', async () => {
    const { exp } = await sessionWith(['2027-12-31T23:30:00Z', '2028-01-01T00:30:00Z']);
    await rebuildHourly([exp]);
    await run('2028-03-15T00:00:00Z');
    expect(await shapes(exp)).toEqual([
      'month 2027-12-01T00:00:00.000Z..2028-01-01T00:00:00.000Z',
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
    ]);
    await expectExact([exp]);
  });

  it('compresses a day whose end is exactly the hourly cutoff, not one a millisecond short of it', async () => {
    const { exp } = await sessionWith([
      '2028-03-05T00:00:00Z',
      '2028-03-05T23:59:59.999Z',
      '2028-03-06T00:00:00Z',
    ]);
    await rebuildHourly([exp]);
    const hours = [
      'hour 2028-03-05T00:00:00.000Z..2028-03-05T01:00:00.000Z',
      'hour 2028-03-05T23:00:00.000Z..2028-03-06T00:00:00.000Z',
      'hour 2028-03-06T00:00:00.000Z..2028-03-06T01:00:00.000Z',
    ];
    // Hourly cutoff = now − 24 h = 2028-03-05T23:59:59.999: the 5th is not whole before it.
    const early = await run('2028-03-06T23:59:59.999Z');
    expect(early.merged.hour).toEqual({ experimentBuckets: 0, sessionBuckets: 0 });
    expect(early.hourlyBefore).toEqual(at('2028-03-05T00:00:00Z'));
    expect(await shapes(exp)).toEqual(hours);
    // Cutoff = 2028-03-06T00:00:00.000, the 5th's end: the 5th is merged, the 6th is not.
    await run('2028-03-07T00:00:00Z');
    const merged = [
      'day 2028-03-05T00:00:00.000Z..2028-03-06T00:00:00.000Z',
      'hour 2028-03-06T00:00:00.000Z..2028-03-06T01:00:00.000Z',
    ];
    expect(await shapes(exp)).toEqual(merged);
    // One millisecond past: the 6th still has hours after the cutoff, so nothing more moves.
    const late = await run('2028-03-07T00:00:00.001Z');
    expect(late.merged.hour).toEqual({ experimentBuckets: 0, sessionBuckets: 0 });
    expect(await shapes(exp)).toEqual(merged);
    await expectExact([exp]);
  });

  it('compresses a month whose end is exactly the daily cutoff, not one a millisecond short of it', async () => {
    const { exp } = await sessionWith(['2028-04-30T12:00:00Z']);
    await rebuildHourly([exp]);
    // Daily cutoff = now − 30 days: a millisecond short of May 1 00:00, April is not whole before it.
    const early = await run('2028-05-30T23:59:59.999Z');
    expect(early.dailyBefore).toEqual(at('2028-04-01T00:00:00Z'));
    expect(await shapes(exp)).toEqual(['day 2028-04-30T00:00:00.000Z..2028-05-01T00:00:00.000Z']);
    // Exactly May 1 00:00, the end of April: April becomes one month.
    const exact = await run('2028-05-31T00:00:00Z');
    expect(exact.dailyBefore).toEqual(at('2028-05-01T00:00:00Z'));
    expect(await shapes(exp)).toEqual(['month 2028-04-01T00:00:00.000Z..2028-05-01T00:00:00.000Z']);
    await expectExact([exp]);
  });
});

describe('merging', () => {
  /** Two experiments, three sessions, messages over two months, hourly buckets. */
  async function history() {
    const a = await sessionWith(['2028-01-10T10:05:00Z', '2028-01-10T11:05:00Z', '2028-02-20T08:00:00Z']);
    const b = await f.session({
      teamId,
      experimentId: a.exp,
      participantId: a.p,
      createdAt: '2028-03-09T23:00:00Z',
    });
    await f.messages(b.chatId, [
      ['human', '2028-03-09T23:10:00Z'],
      ['ai', '2028-03-09T23:11:00Z'],
      ['human', '2028-03-10T11:00:00Z'],
    ]);
    const c = await sessionWith(['2028-03-01T00:00:00Z', '2028-03-08T00:00:00Z']);
    const evaluation = await f.session({
      teamId,
      experimentId: c.exp,
      createdAt: '2028-02-02T00:00:00Z',
      platform: 'evaluations',
    });
    await f.messages(evaluation.chatId, [['human', '2028-02-02T01:00:00Z']]);
    const experiments = [a.exp, c.exp];
    const sessions = [a.s.id, b.id, c.s.id, evaluation.id];
    return { a, b, c, experiments, sessions };
  }

  it('leaves every read helper answering the same, and ends in the policy shape', async () => {
    const { experiments, sessions, a } = await history();
    await rebuildHourly(experiments);
    const before = await readAll(experiments, sessions);
    const result = await run('2028-03-10T12:00:00Z');
    expect(await readAll(experiments, sessions)).toEqual(before);
    // Hourly cutoff 2028-03-09 00:00, daily cutoff 2028-02-09 → months up to February 1.
    expect(result.hourlyBefore).toEqual(at('2028-03-09T00:00:00Z'));
    expect(result.dailyBefore).toEqual(at('2028-02-01T00:00:00Z'));
    expect(await shapes(a.exp)).toEqual([
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
      'day 2028-02-20T00:00:00.000Z..2028-02-21T00:00:00.000Z',
      'hour 2028-03-09T23:00:00.000Z..2028-03-10T00:00:00.000Z',
      'hour 2028-03-10T11:00:00.000Z..2028-03-10T12:00:00.000Z',
    ]);
    await expectExact(experiments);
  });

  it('is idempotent: a second run at the same now merges nothing and changes no row', async () => {
    const { experiments } = await history();
    await rebuildHourly(experiments);
    await run('2028-03-10T12:00:00Z');
    const rows = await allBuckets();
    const stamps = await queryRows(
      t.db,
      sql`select updated_at::text from experiment_statistics_buckets order by 1`,
    );
    const second = await run('2028-03-10T12:00:00Z');
    expect(second.experiments).toBe(0);
    expect(second.merged).toEqual({
      hour: { experimentBuckets: 0, sessionBuckets: 0 },
      day: { experimentBuckets: 0, sessionBuckets: 0 },
    });
    expect(await allBuckets()).toEqual(rows);
    expect(
      await queryRows(t.db, sql`select updated_at::text from experiment_statistics_buckets order by 1`),
    ).toEqual(stamps);
  });

  it('a dry run reports exactly what the real run then does, and writes nothing', async () => {
    const { experiments } = await history();
    await rebuildHourly(experiments);
    const rows = await allBuckets();
    const dry = await run('2028-03-10T12:00:00Z', POLICY, true);
    expect(await allBuckets()).toEqual(rows);
    const real = await run('2028-03-10T12:00:00Z');
    const figures = (r: CompressResult) => ({
      merged: r.merged,
      written: r.written,
      experiments: r.experiments,
    });
    expect(dry.dryRun).toBe(true);
    expect(figures(dry)).toEqual(figures(real));
    expect(real.merged.hour.experimentBuckets).toBeGreaterThan(0);
  });

  it('refresh --full in the policy shape writes exactly the buckets compression produces', async () => {
    const { experiments } = await history();
    await rebuildHourly(experiments);
    await run('2028-03-10T12:00:00Z');
    const compressed = await allBuckets();
    await t.db.execute(sql`truncate experiment_statistics_buckets, session_statistics_buckets`);
    const rebuilt = await refreshFull(t.db, {
      experimentIds: experiments,
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchExperiments: 1,
      bucketShape: shapeAt(POLICY, at('2028-03-10T12:00:00Z')),
    });
    expect(await allBuckets()).toEqual(compressed);
    // It never wrote the old hours: its row count is the compressed one.
    expect(rebuilt.experimentBuckets + rebuilt.sessionBuckets).toBe(compressed.length);
  });

  it('adds fine buckets into a coarse bucket that already holds some', async () => {
    const { exp, s } = await sessionWith(['2028-03-05T10:00:00Z']);
    await rebuildHourly([exp]);
    // A day bucket already holding one message and one session, and the hour bucket beside it.
    await t.db.execute(sql`update experiment_statistics_buckets set bucket_start = bucket_start + interval '1 hour',
                             bucket_end = bucket_end + interval '1 hour', last_activity_at = '2028-03-05T11:30:00Z'
                           where experiment_id = ${exp}`);
    await t.db.execute(sql`insert into experiment_statistics_buckets
      (team_id, experiment_id, bucket_size, bucket_start, bucket_end, session_count, new_participant_count, human_message_count, last_activity_at)
      values (${teamId}, ${exp}, 'day', '2028-03-05T00:00:00Z', '2028-03-06T00:00:00Z', 1, 0, 2, '2028-03-05T09:00:00Z')`);
    await run('2028-03-07T00:00:00Z');
    expect(await experimentBuckets(t.db, exp)).toEqual([
      {
        bucketSize: 'day',
        bucketStart: '2028-03-05T00:00:00.000Z',
        bucketEnd: '2028-03-06T00:00:00.000Z',
        sessions: 2,
        participants: 1,
        humanMessages: 3,
        lastActivityAt: '2028-03-05T11:30:00.000Z',
      },
    ]);
    expect(await sessionShapes(s.id)).toEqual(['day 2028-03-05T00..2028-03-06T00 1']);
  });

  it('serves trend series in time order with each bucket size', async () => {
    const { a, experiments } = await history();
    await rebuildHourly(experiments);
    await run('2028-03-10T12:00:00Z');
    const series = await getExperimentSeries(t.db, [a.exp], {
      from: at('2028-01-15T00:00:00Z'),
      to: at('2028-03-10T00:00:00Z'),
    });
    expect(
      series.get(a.exp)?.map((p) => [p.bucketSize, p.bucketStart.toISOString(), p.humanMessages]),
    ).toEqual([
      ['month', '2028-01-01T00:00:00.000Z', 2],
      ['day', '2028-02-20T00:00:00.000Z', 1],
      ['hour', '2028-03-09T23:00:00.000Z', 1],
    ]);
  });
});

describe('changes inside compressed ranges', () => {
  /** A session with messages on Jan 10 and Mar 5, compressed at Mar 7 noon: January monthly, Mar 5 daily. */
  async function compressed() {
    const base = await sessionWith(['2028-01-10T10:05:00Z', '2028-01-12T11:05:00Z', '2028-03-05T08:00:00Z']);
    await refresh();
    await run('2028-03-07T12:00:00Z');
    expect(await shapes(base.exp)).toEqual([
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
      'day 2028-03-05T00:00:00.000Z..2028-03-06T00:00:00.000Z',
    ]);
    return base;
  }

  it('recounts a compressed day from source when a late message arrives in it', async () => {
    const { exp, s } = await compressed();
    await f.messages(s.chatId, [['human', '2028-03-05T17:00:00Z']]);
    await refresh();
    expect(await shapes(exp)).toEqual([
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
      'day 2028-03-05T00:00:00.000Z..2028-03-06T00:00:00.000Z',
    ]);
    const day = (await experimentBuckets(t.db, exp))[1];
    expect(day?.humanMessages).toBe(2);
    expect(day?.lastActivityAt).toBe('2028-03-05T17:00:00.000Z');
    expect(await sessionShapes(s.id)).toEqual([
      'month 2028-01-01T00..2028-02-01T00 2',
      'day 2028-03-05T00..2028-03-06T00 2',
    ]);
    await expectExact([exp]);
  });

  it('recounts a compressed month for late messages, a late session and a new participant', async () => {
    const { exp, s } = await compressed();
    await f.messages(s.chatId, [['human', '2028-01-31T23:59:59.999Z']]);
    const newcomer = await f.participant(teamId);
    const late = await f.session({
      teamId,
      experimentId: exp,
      participantId: newcomer,
      createdAt: '2028-01-20T05:00:00Z',
    });
    await f.messages(late.chatId, [['human', '2028-01-20T05:01:00Z']]);
    await refresh();
    const [month] = await experimentBuckets(t.db, exp);
    expect(month).toEqual({
      bucketSize: 'month',
      bucketStart: '2028-01-01T00:00:00.000Z',
      bucketEnd: '2028-02-01T00:00:00.000Z',
      sessions: 2,
      participants: 2,
      humanMessages: 4,
      lastActivityAt: '2028-01-31T23:59:59.999Z',
    });
    expect((await shapes(exp)).length).toBe(2);
    await expectExact([exp]);
    // The late session's own hourly bucket joins the month at the next compression.
    expect(await sessionShapes(late.id)).toEqual(['hour 2028-01-20T05..2028-01-20T06 1']);
    await run('2028-03-07T12:00:00Z');
    expect(await sessionShapes(late.id)).toEqual(['month 2028-01-01T00..2028-02-01T00 1']);
    await expectExact([exp]);
  });

  it('recounts a compressed month after deletes, and drops it once nothing is left', async () => {
    const { exp, s, messageIds } = await compressed();
    await t.db.execute(sql`delete from chat_messages where id = ${messageIds[0] as number}`);
    await refresh();
    expect((await experimentBuckets(t.db, exp))[0]?.humanMessages).toBe(1);
    await expectExact([exp]);
    await t.db.execute(sql`delete from chat_messages where id = ${messageIds[1] as number}`);
    await refresh();
    // January still holds the session's creation; March 5 its last message.
    expect(
      (await experimentBuckets(t.db, exp)).map((b) => [b.bucketSize, b.sessions, b.humanMessages]),
    ).toEqual([
      ['month', 1, 0],
      ['day', 0, 1],
    ]);
    await t.db.execute(sql`delete from experiment_sessions where id = ${s.id}`);
    await refresh();
    expect(await shapes(exp)).toEqual([]);
    await expectExact([exp]);
  });

  it('moves counts between compressed ranges when a message moves in time or a session moves experiment', async () => {
    const { exp, s, messageIds } = await compressed();
    const other = await f.experiment(teamId);
    await t.db.execute(
      sql`update chat_messages set created_at = '2028-03-05T23:00:00Z' where id = ${messageIds[0] as number}`,
    );
    await refresh();
    expect((await experimentBuckets(t.db, exp)).map((b) => b.humanMessages)).toEqual([1, 2]);
    await expectExact([exp]);
    await t.db.execute(sql`update experiment_sessions set experiment_id = ${other} where id = ${s.id}`);
    await refresh('2028-03-07T12:00:00Z');
    expect(await shapes(exp)).toEqual([]);
    // The session's own buckets are rebuilt whole, in the policy's shape.
    expect(await sessionShapes(s.id)).toEqual([
      'month 2028-01-01T00..2028-02-01T00 1',
      'day 2028-03-05T00..2028-03-06T00 2',
    ]);
    await expectExact([exp, other]);
    // `other` had no bucket covering those instants: its recounts land hourly, and the next
    // compression merges them like any other hours.
    expect((await shapes(other)).every((shape) => shape.startsWith('hour'))).toBe(true);
    await run('2028-03-07T12:00:00Z');
    expect(await shapes(other)).toEqual([
      'month 2028-01-01T00:00:00.000Z..2028-02-01T00:00:00.000Z',
      'day 2028-03-05T00:00:00.000Z..2028-03-06T00:00:00.000Z',
    ]);
    await expectExact([exp, other]);
  });
});

describe('verify', () => {
  it('reports hourly and daily buckets beside the coarser bucket covering them', async () => {
    const { exp, s } = await sessionWith(['2028-01-05T10:00:00Z', '2028-03-05T10:00:00Z']);
    await rebuildHourly([exp]);
    await run('2028-03-07T00:00:00Z');
    expect(await sessionShapes(s.id)).toEqual([
      'month 2028-01-01T00..2028-02-01T00 1',
      'day 2028-03-05T00..2028-03-06T00 1',
    ]);
    await t.db.execute(sql`insert into session_statistics_buckets
      (team_id, experiment_id, session_id, platform, bucket_size, bucket_start, bucket_end, human_message_count, last_activity_at)
      values (${teamId}, ${exp}, ${s.id}, 'web', 'hour', '2028-03-05T10:00:00Z', '2028-03-05T11:00:00Z', 1, '2028-03-05T10:00:00Z')`);
    await t.db.execute(sql`insert into experiment_statistics_buckets
      (team_id, experiment_id, bucket_size, bucket_start, bucket_end, session_count, new_participant_count, human_message_count, last_activity_at)
      values (${teamId}, ${exp}, 'day', '2028-01-05T00:00:00Z', '2028-01-06T00:00:00Z', 0, 0, 1, '2028-01-05T10:00:00Z')`);
    const result = await verify(t.db, {
      experimentIds: [exp],
      excludedPlatforms: EXCLUDED_PLATFORMS,
      batchExperiments: 2,
    });
    expect(result.mismatches.filter((m) => m.kind === 'overlapping_buckets')).toEqual([
      {
        kind: 'overlapping_buckets',
        table: 'experiment_statistics_buckets',
        id: exp,
        bucketSize: 'day',
        bucketStart: '2028-01-05T00:00:00.000Z',
        coveredBy: { bucketSize: 'month', bucketStart: '2028-01-01T00:00:00.000Z' },
      },
      {
        kind: 'overlapping_buckets',
        table: 'session_statistics_buckets',
        id: s.id,
        bucketSize: 'hour',
        bucketStart: '2028-03-05T10:00:00.000Z',
        coveredBy: { bucketSize: 'day', bucketStart: '2028-03-05T00:00:00.000Z' },
      },
    ]);
  });
});
