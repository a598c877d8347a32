/**
 * The bucket definitions, one behaviour per test, with explicit UTC timestamps: given rows in the
 * chat tables, when a full refresh runs, then the stored hourly buckets are exactly these.
 */
import { describe, expect, it } from 'vitest';
import { getExperimentTotals } from '../src/read/get-experiment-totals.js';
import { getSessionTotals } from '../src/read/get-session-totals.js';
import { refreshFull } from '../src/rebuild/refresh-full.js';
import { experimentBuckets, liveExperimentTotals, sessionBuckets } from './helpers/fixtures.js';
import { EXCLUDED_PLATFORMS, expectCacheExact, useTestDatabase } from './helpers/setup.js';

const t = useTestDatabase({ team: true });
const f = t.fixture;

async function refresh(experimentIds: number[]) {
  return refreshFull(t.db, { experimentIds, excludedPlatforms: EXCLUDED_PLATFORMS, batchExperiments: 50 });
}

describe('hour boundaries', () => {
  it('puts 10:59:59.999 and 11:00:00 in different hours, half-open', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-03-10T10:15:00Z' });
    await f.messages(s.chatId, [
      ['human', '2026-03-10T10:59:59.999Z'],
      ['human', '2026-03-10T11:00:00.000Z'],
    ]);
    await refresh([exp]);
    expect(await experimentBuckets(t.db, exp)).toEqual([
      {
        bucketSize: 'hour',
        bucketStart: '2026-03-10T10:00:00.000Z',
        bucketEnd: '2026-03-10T11:00:00.000Z',
        sessions: 1,
        participants: 0,
        humanMessages: 1,
        lastActivityAt: '2026-03-10T10:59:59.999Z',
      },
      {
        bucketSize: 'hour',
        bucketStart: '2026-03-10T11:00:00.000Z',
        bucketEnd: '2026-03-10T12:00:00.000Z',
        sessions: 0,
        participants: 0,
        humanMessages: 1,
        lastActivityAt: '2026-03-10T11:00:00.000Z',
      },
    ]);
    expect(await sessionBuckets(t.db, s.id)).toEqual([
      {
        bucketStart: '2026-03-10T10:00:00.000Z',
        humanMessages: 1,
        lastActivityAt: '2026-03-10T10:59:59.999Z',
      },
      {
        bucketStart: '2026-03-10T11:00:00.000Z',
        humanMessages: 1,
        lastActivityAt: '2026-03-10T11:00:00.000Z',
      },
    ]);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('splits month and year boundaries in UTC', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-12-31T23:30:00Z' });
    const s2 = await f.session({
      teamId: t.teamId,
      experimentId: exp,
      createdAt: '2028-02-29T23:59:59.999Z',
    });
    await f.messages(s.chatId, [
      ['human', '2026-12-31T23:59:59.999Z'],
      ['human', '2027-01-01T00:00:00Z'],
    ]);
    await f.messages(s2.chatId, [['human', '2028-03-01T00:00:00.001Z']]);
    await refresh([exp]);
    const buckets = await experimentBuckets(t.db, exp);
    expect(buckets.map((b) => [b.bucketStart, b.bucketEnd, b.sessions, b.humanMessages])).toEqual([
      ['2026-12-31T23:00:00.000Z', '2027-01-01T00:00:00.000Z', 1, 1],
      ['2027-01-01T00:00:00.000Z', '2027-01-01T01:00:00.000Z', 0, 1],
      ['2028-02-29T23:00:00.000Z', '2028-03-01T00:00:00.000Z', 1, 0],
      ['2028-03-01T00:00:00.000Z', '2028-03-01T01:00:00.000Z', 0, 1],
    ]);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });
});

describe('what counts', () => {
  it('excludes evaluations sessions from experiment buckets but keeps their session buckets', async () => {
    const exp = await f.experiment(t.teamId);
    const p = await f.participant(t.teamId);
    const evaluation = await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: p,
      platform: 'evaluations',
      createdAt: '2026-05-01T08:00:00Z',
    });
    await f.messages(evaluation.chatId, [['human', '2026-05-01T08:01:00Z']]);
    await refresh([exp]);
    expect(await experimentBuckets(t.db, exp)).toEqual([]);
    expect((await getExperimentTotals(t.db, [exp])).get(exp)).toEqual({
      sessions: 0,
      participants: 0,
      humanMessages: 0,
      lastActivityAt: null,
    });
    expect((await getSessionTotals(t.db, [evaluation.id])).get(evaluation.id)?.humanMessages).toBe(1);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('counts a participant once, in the hour of their first counted session', async () => {
    const exp = await f.experiment(t.teamId);
    const p = await f.participant(t.teamId);
    // An earlier evaluations session does not make the participant "new" at 07:00.
    await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: p,
      platform: 'evaluations',
      createdAt: '2026-05-02T07:00:00Z',
    });
    await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-02T09:10:00Z',
    });
    await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: p,
      createdAt: '2026-05-02T08:20:00Z',
    });
    await refresh([exp]);
    const buckets = await experimentBuckets(t.db, exp);
    expect(buckets.map((b) => [b.bucketStart, b.sessions, b.participants])).toEqual([
      ['2026-05-02T08:00:00.000Z', 1, 1],
      ['2026-05-02T09:00:00.000Z', 1, 0],
    ]);
    expect((await getExperimentTotals(t.db, [exp])).get(exp)?.participants).toBe(1);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('counts the same participant in each experiment they talk to', async () => {
    const a = await f.experiment(t.teamId);
    const b = await f.experiment(t.teamId);
    const p = await f.participant(t.teamId);
    await f.session({
      teamId: t.teamId,
      experimentId: a,
      participantId: p,
      createdAt: '2026-05-03T10:00:00Z',
    });
    await f.session({
      teamId: t.teamId,
      experimentId: b,
      participantId: p,
      createdAt: '2026-05-03T11:00:00Z',
    });
    await refresh([a, b]);
    const totals = await getExperimentTotals(t.db, [a, b]);
    expect(totals.get(a)?.participants).toBe(1);
    expect(totals.get(b)?.participants).toBe(1);
    await expectCacheExact(t.db, { experimentIds: [a, b] });
  });

  it('counts sessions without a participant but never as participants', async () => {
    const exp = await f.experiment(t.teamId);
    await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: null,
      createdAt: '2026-05-04T10:00:00Z',
    });
    await f.session({
      teamId: t.teamId,
      experimentId: exp,
      participantId: null,
      createdAt: '2026-05-04T10:30:00Z',
    });
    await refresh([exp]);
    expect((await getExperimentTotals(t.db, [exp])).get(exp)).toMatchObject({ sessions: 2, participants: 0 });
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('ignores ai and system messages in counts and last activity', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-05-05T10:00:00Z' });
    await f.messages(s.chatId, [
      ['human', '2026-05-05T10:05:00Z'],
      ['ai', '2026-05-05T10:06:00Z'],
      ['system', '2026-05-05T12:00:00Z'],
    ]);
    await refresh([exp]);
    expect((await getExperimentTotals(t.db, [exp])).get(exp)).toEqual({
      sessions: 1,
      participants: 0,
      humanMessages: 1,
      lastActivityAt: new Date('2026-05-05T10:05:00Z'),
    });
    expect(await experimentBuckets(t.db, exp)).toHaveLength(1);
    expect(await liveExperimentTotals(t.db, exp)).toMatchObject({ humanMessages: 1 });
  });
});

describe('cached_experiment_versions', () => {
  it('lists distinct experiment_version tag names in natural order', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-06-01T10:00:00Z' });
    const [m1, m2, m3, m4] = await f.messages(s.chatId, [
      ['human', '2026-06-01T10:01:00Z'],
      ['ai', '2026-06-01T10:02:00Z'],
      ['human', '2026-06-01T10:03:00Z'],
      ['ai', '2026-06-01T10:04:00Z'],
    ]);
    const v10 = await f.tag(t.teamId, 'v10');
    const v2 = await f.tag(t.teamId, 'v2');
    const v1 = await f.tag(t.teamId, 'v1');
    const topic = await f.tag(t.teamId, 'v3', 'topic');
    await f.tagMessage(m1 as number, v10);
    await f.tagMessage(m2 as number, v2);
    await f.tagMessage(m3 as number, v10);
    await f.tagMessage(m4 as number, v1);
    await f.tagMessage(m4 as number, topic);
    await refresh([exp]);
    expect((await getSessionTotals(t.db, [s.id])).get(s.id)?.experimentVersions).toEqual(['v1', 'v2', 'v10']);
    await expectCacheExact(t.db, { experimentIds: [exp] });
  });

  it('sorts digit runs by value and text by code point', async () => {
    const exp = await f.experiment(t.teamId);
    const s = await f.session({ teamId: t.teamId, experimentId: exp, createdAt: '2026-06-02T10:00:00Z' });
    const names = ['v1.10', 'v1.9', 'v1.9a', 'beta', 'v100', 'v20', 'v002', 'v3'];
    const messageIds = await f.messages(
      s.chatId,
      names.map(() => ['ai', '2026-06-02T10:01:00Z'] as ['ai', string]),
    );
    for (const [i, name] of names.entries())
      await f.tagMessage(messageIds[i] as number, await f.tag(t.teamId, name));
    await refresh([exp]);
    expect((await getSessionTotals(t.db, [s.id])).get(s.id)?.experimentVersions).toEqual([
      'beta',
      'v1.9',
      'v1.9a',
      'v1.10',
      'v002',
      'v3',
      'v20',
      'v100',
    ]);
  });
});
