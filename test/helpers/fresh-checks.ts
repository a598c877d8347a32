/**
 * The check the property tests make at random points of their sequences, before any refresh: every
 * fresh read (totals, pages with their order and total, series point by point, of experiments and
 * sessions) equals a live recount at that instant, by the README's definitions and with none of
 * statcache's SQL. One model per source profile says where its tables are.
 */
import { type SQL, sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { queryRows, type StatDb, toDate, toNumber } from '../../src/db/types.js';
import { getExperimentSeries } from '../../src/read/get-experiment-series.js';
import { getExperimentTotals } from '../../src/read/get-experiment-totals.js';
import { getSessionSeries } from '../../src/read/get-session-series.js';
import { getSessionTotals } from '../../src/read/get-session-totals.js';
import { listExperiments } from '../../src/read/list-experiments.js';
import { listSessions } from '../../src/read/list-sessions.js';
import type { SourceProfile } from '../../src/source/source-profile.js';
import { naturalCompare } from './ocs-fixture.js';
import { EXCLUDED_PLATFORMS } from './setup.js';

/** Where a profile's tables are, as plain SQL (test-only names, never from user input). */
export interface LiveModel {
  source: SourceProfile;
  /** (experiment_id, session_id, participant_id, chat_id, created_at) of every counted session of a team. */
  counted: (teamId: number) => SQL;
  /** (id, chat_id) of every session of a team. */
  sessions: (teamId: number) => SQL;
  /** (id): the sessions listSessions lists for an experiment (its own, and its version rows'). */
  filedUnder: (experimentId: number) => SQL;
  /** (id): the team's experiments of their own. */
  experiments: (teamId: number) => SQL;
  /** The messages table: chat_id, message_type, created_at. */
  messages: string;
  /** Per session of the team: human messages, the latest, versions in natural order. */
  sessionTotals: (
    db: StatDb,
  ) => Promise<
    Map<number, { humanMessages: number; lastActivityAt: Date | null; experimentVersions: string[] }>
  >;
}

const excluded = () => sql`${sql.param([...EXCLUDED_PLATFORMS])}::text[]`;

export const STATCACHE_MODEL: Omit<LiveModel, 'source' | 'sessionTotals'> = {
  counted: (teamId) => sql`
    select s.experiment_id, s.id as session_id, s.participant_id, s.chat_id, s.created_at
    from experiment_sessions s
    where s.team_id = ${teamId} and not coalesce(s.platform = any(${excluded()}), false)`,
  sessions: (teamId) => sql`select id, chat_id from experiment_sessions where team_id = ${teamId}`,
  filedUnder: (experimentId) => sql`select id from experiment_sessions where experiment_id = ${experimentId}`,
  experiments: (teamId) => sql`select id from experiments where team_id = ${teamId}`,
  messages: 'chat_messages',
};

export const OCS_MODEL: Omit<LiveModel, 'source' | 'sessionTotals'> = {
  counted: (teamId) => sql`
    select coalesce(x.working_version_id, x.id) as experiment_id, s.id as session_id, s.participant_id,
           s.chat_id, s.created_at
    from experiments_experimentsession s join experiments_experiment x on x.id = s.experiment_id
    where s.team_id = ${teamId} and not coalesce(s.platform = any(${excluded()}), false)`,
  sessions: (teamId) => sql`select id, chat_id from experiments_experimentsession where team_id = ${teamId}`,
  filedUnder: (experimentId) => sql`
    select s.id from experiments_experimentsession s join experiments_experiment x on x.id = s.experiment_id
    where (x.id = ${experimentId} and x.working_version_id is null) or x.working_version_id = ${experimentId}`,
  experiments: (teamId) =>
    sql`select id from experiments_experiment where team_id = ${teamId} and working_version_id is null`,
  messages: 'chat_chatmessage',
};

interface Values {
  sessions: number;
  participants: number;
  humanMessages: number;
  lastActivityAt: Date | null;
}

const ALL_TIME = { from: new Date('2000-01-01T00:00:00Z'), to: new Date('2100-01-01T00:00:00Z') };

/**
 * Experiment values over ranges: for each (experiment, start, end), sessions created in it,
 * participants whose first counted session (earliest, then lowest id) is in it, human messages in
 * it and the latest. Ranges [2000, 2100) give the totals.
 */
async function recountRanges(
  db: StatDb,
  model: LiveModel,
  teamId: number,
  ranges: { id: number; from: Date; to: Date }[],
): Promise<Values[]> {
  if (ranges.length === 0) return [];
  const M = sql.raw(model.messages);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    with counted as materialized (${model.counted(teamId)}),
    firsts as (
      select distinct on (experiment_id, participant_id) experiment_id, created_at
      from counted where participant_id is not null order by experiment_id, participant_id, created_at, session_id
    ),
    r as (
      ${rangesSql(ranges, 'experiment_id')}
    )
    select r.n,
      (select count(*) from counted c where c.experiment_id = r.experiment_id and c.created_at >= r.start_at and c.created_at < r.end_at) as sessions,
      (select count(*) from firsts f where f.experiment_id = r.experiment_id and f.created_at >= r.start_at and f.created_at < r.end_at) as participants,
      (select count(*) from counted c join ${M} m on m.chat_id = c.chat_id and m.message_type = 'human'
        where c.experiment_id = r.experiment_id and m.created_at >= r.start_at and m.created_at < r.end_at) as messages,
      (select max(m.created_at) from counted c join ${M} m on m.chat_id = c.chat_id and m.message_type = 'human'
        where c.experiment_id = r.experiment_id and m.created_at >= r.start_at and m.created_at < r.end_at) as last_at
    from r order by r.n`,
  );
  return rows.map((r) => ({
    sessions: toNumber(r.sessions),
    participants: toNumber(r.participants),
    humanMessages: toNumber(r.messages),
    lastActivityAt: toDate(r.last_at),
  }));
}

/** Session human messages over ranges. */
async function recountSessionRanges(
  db: StatDb,
  model: LiveModel,
  teamId: number,
  ranges: { id: number; from: Date; to: Date }[],
): Promise<{ humanMessages: number; lastActivityAt: Date | null }[]> {
  if (ranges.length === 0) return [];
  const M = sql.raw(model.messages);
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`
    with s as (${model.sessions(teamId)}),
    r as (
      ${rangesSql(ranges, 'session_id')}
    )
    select r.n, count(m.*) as messages, max(m.created_at) as last_at
    from r left join s on s.id = r.session_id
    left join ${M} m on m.chat_id = s.chat_id and m.message_type = 'human' and m.created_at >= r.start_at and m.created_at < r.end_at
    group by r.n order by r.n`,
  );
  return rows.map((r) => ({ humanMessages: toNumber(r.messages), lastActivityAt: toDate(r.last_at) }));
}

/** The ranges as rows r(<id>, start_at, end_at, n), n their position in `ranges`. */
function rangesSql(ranges: { id: number; from: Date; to: Date }[], id: 'experiment_id' | 'session_id'): SQL {
  return sql`select * from unnest(${sql.param(ranges.map((x) => x.id))}::bigint[],
                           ${sql.param(ranges.map((x) => x.from.toISOString()))}::timestamptz[],
                           ${sql.param(ranges.map((x) => x.to.toISOString()))}::timestamptz[])
               with ordinality as r(${sql.raw(id)}, start_at, end_at, n)`;
}

const ids = async (db: StatDb, query: SQL) =>
  (await queryRows<{ id: unknown }>(db, query)).map((r) => toNumber(r.id)).sort((a, b) => a - b);

/** Sorted as the helpers sort: by `key` (desc, nulls last), then id ascending. */
function byKeyDesc<T>(rows: T[], key: (r: T) => number | null, id: (r: T) => number): T[] {
  return [...rows].sort((a, b) => {
    const x = key(a);
    const y = key(b);
    if (x === null && y !== null) return 1;
    if (y === null && x !== null) return -1;
    if (x !== null && y !== null && x !== y) return y - x;
    return id(a) - id(b);
  });
}

/** Every fresh read of the team equals the live recount now. `rows` are the experiment-table ids to ask for. */
export async function expectFreshReadsExact(
  db: StatDb,
  model: LiveModel,
  teamId: number,
  rows: readonly number[],
): Promise<void> {
  const read = { source: model.source, fresh: true, excludedPlatforms: EXCLUDED_PLATFORMS };
  const own = await ids(db, model.experiments(teamId));
  const zeros: Values = { sessions: 0, participants: 0, humanMessages: 0, lastActivityAt: null };

  // Totals: every row asked for (a version row reads as zeros).
  const expected = await recountRanges(
    db,
    model,
    teamId,
    own.map((id) => ({ id, ...ALL_TIME })),
  );
  const totalsOf = new Map(own.map((id, i) => [id, expected[i] as Values]));
  const totals = await getExperimentTotals(db, rows, read);
  expect(totals.freshness.mode).toBe('fresh');
  expect(Object.fromEntries(totals)).toEqual(
    Object.fromEntries(rows.map((id) => [id, totalsOf.get(id) ?? zeros])),
  );

  // The team's page, sorted by human messages and by last activity, one row at a time.
  for (const sortBy of ['humanMessages', 'lastActivity'] as const) {
    const order = byKeyDesc(
      own,
      (id) => {
        const v = totalsOf.get(id) as Values;
        return sortBy === 'humanMessages' ? v.humanMessages : (v.lastActivityAt?.getTime() ?? null);
      },
      (id) => id,
    );
    for (let offset = 0; offset < own.length; offset++) {
      const page = await listExperiments(db, { ...read, teamId, sortBy, limit: 1, offset });
      expect(page.total).toBe(own.length);
      expect(page.freshness.mode).toBe('fresh');
      const [row] = page.rows;
      expect(row?.experimentId).toBe(order[offset]);
      const { experimentId, teamId: _t, name: _n, ...values } = row as NonNullable<typeof row>;
      expect(values).toEqual(totalsOf.get(experimentId));
    }
  }

  // Series over all time: each point exact over its own range, and together they hold the totals.
  const series = await getExperimentSeries(db, own, { ...read, ...ALL_TIME });
  expect(series.freshness.mode).toBe('fresh');
  const points = own.flatMap((id) => (series.get(id) ?? []).map((p) => ({ id, p })));
  const pointValues = await recountRanges(
    db,
    model,
    teamId,
    points.map(({ id, p }) => ({ id, from: p.bucketStart, to: p.bucketEnd })),
  );
  points.forEach(({ id, p }, i) => {
    const { bucketSize: _s, bucketStart, bucketEnd, ...values } = p;
    expect({ id, bucketStart, bucketEnd, ...values }).toEqual({
      id,
      bucketStart,
      bucketEnd,
      ...pointValues[i],
    });
    expect(values.sessions + values.participants + values.humanMessages).toBeGreaterThan(0);
  });
  for (const id of own) {
    const mine = series.get(id) ?? [];
    const sum = (k: 'sessions' | 'participants' | 'humanMessages') => mine.reduce((n, p) => n + p[k], 0);
    const total = totalsOf.get(id) as Values;
    expect({ id, s: sum('sessions'), p: sum('participants'), m: sum('humanMessages') }).toEqual({
      id,
      s: total.sessions,
      p: total.participants,
      m: total.humanMessages,
    });
    for (let i = 1; i < mine.length; i++)
      expect(
        (mine[i] as { bucketStart: Date }).bucketStart >= (mine[i - 1] as { bucketEnd: Date }).bucketEnd,
      ).toBe(true);
  }

  // Sessions: totals with versions, each experiment's page by human messages, series point by point.
  const perSession = await model.sessionTotals(db);
  const sessions = (await queryRows<{ id: unknown }>(db, model.sessions(teamId))).map((r) => toNumber(r.id));
  const sessionTotals = await getSessionTotals(db, sessions, read);
  expect(sessionTotals.freshness.mode).toBe('fresh');
  expect(Object.fromEntries(sessionTotals)).toEqual(
    Object.fromEntries(sessions.map((id) => [id, perSession.get(id)])),
  );
  for (const experimentId of own) {
    const filed = await ids(db, model.filedUnder(experimentId));
    const page = await listSessions(db, { ...read, experimentId, sortBy: 'humanMessages', limit: 1000 });
    expect(page.total).toBe(filed.length);
    const want = byKeyDesc(
      filed,
      (id) => perSession.get(id)?.humanMessages ?? 0,
      (id) => id,
    );
    expect(page.rows.map((r) => r.sessionId)).toEqual(want);
    for (const r of page.rows) {
      const live = perSession.get(r.sessionId);
      expect({ id: r.sessionId, m: r.humanMessages, l: r.lastActivityAt, v: r.experimentVersions }).toEqual({
        id: r.sessionId,
        m: live?.humanMessages,
        l: live?.lastActivityAt,
        v: live?.experimentVersions,
      });
    }
  }
  const sessionSeries = await getSessionSeries(db, sessions, { ...read, ...ALL_TIME });
  const sessionPoints = sessions.flatMap((id) => (sessionSeries.get(id) ?? []).map((p) => ({ id, p })));
  const sessionValues = await recountSessionRanges(
    db,
    model,
    teamId,
    sessionPoints.map(({ id, p }) => ({ id, from: p.bucketStart, to: p.bucketEnd })),
  );
  sessionPoints.forEach(({ id, p }, i) => {
    expect({ id, start: p.bucketStart, m: p.humanMessages, l: p.lastActivityAt }).toEqual({
      id,
      start: p.bucketStart,
      m: sessionValues[i]?.humanMessages,
      l: sessionValues[i]?.lastActivityAt,
    });
    expect(p.humanMessages).toBeGreaterThan(0);
  });
  for (const id of sessions) {
    const sum = (sessionSeries.get(id) ?? []).reduce((n, p) => n + p.humanMessages, 0);
    expect({ id, sum }).toEqual({ id, sum: perSession.get(id)?.humanMessages ?? 0 });
  }
}

/** Per session, by the README's definitions on the statcache demo schema. */
export async function recountStatcacheSessions(
  db: StatDb,
): Promise<
  Map<number, { humanMessages: number; lastActivityAt: Date | null; experimentVersions: string[] }>
> {
  const rows = await queryRows<{ id: unknown; n: unknown; last: unknown; versions: string[] | null }>(
    db,
    sql`select s.id,
               (select count(*) from chat_messages m where m.chat_id = s.chat_id and m.message_type = 'human') as n,
               (select max(m.created_at) from chat_messages m where m.chat_id = s.chat_id and m.message_type = 'human') as last,
               (select array_agg(distinct g.name::text) from chat_messages m
                  join chat_message_tags l on l.message_id = m.id
                  join tags g on g.id = l.tag_id and g.category = 'experiment_version'
                where m.chat_id = s.chat_id) as versions
        from experiment_sessions s`,
  );
  return new Map(
    rows.map((r) => [
      toNumber(r.id),
      {
        humanMessages: toNumber(r.n),
        lastActivityAt: toDate(r.last),
        experimentVersions: [...(r.versions ?? [])].sort(naturalCompare),
      },
    ]),
  );
}
