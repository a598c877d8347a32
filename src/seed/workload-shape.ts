/**
 * The seeded workload's shape, shared by every profile's seed: pseudo-random draws that are pure
 * functions of a row's index and the seed (hashint8extended), and where each row falls (which team
 * an experiment belongs to, which experiment a session talks to, when it starts, which session a
 * message is in). Indexes are 1-based.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { WorkloadSize } from './workload-size.js';

/** Versions per team (v1…v12), then the topic tags: each team's tags, 1-based k. */
export const VERSIONS_PER_TEAM = 12;
export const TOPIC_TAGS = ['billing', 'support'] as const;
export const TAGS_PER_TEAM = VERSIONS_PER_TEAM + TOPIC_TAGS.length;

export interface WorkloadShape {
  /** A uniform draw in [0, 1) for row `index`, independent per `salt`. */
  u(index: SQL, salt: number): SQL;
  /** The first instant sessions may start at (`until` − `days`). */
  start: SQL;
  /** Team (1-based) of experiment or participant `k`. */
  teamOf(k: SQL): SQL;
  /** Experiment (1-based) of session `j`: skewed, u³ favours low indexes (a few busy, a long tail). */
  experimentOf(j: SQL): SQL;
  /** When session `j` starts. */
  sessionStart(j: SQL): SQL;
  /** Session (1-based) of message `i`. */
  sessionOf(i: SQL): SQL;
  /** Message `i`'s type: 45% human, 45% ai, 10% system. */
  messageTypeOf(i: SQL): SQL;
  /**
   * The tags (k, 1-based within its team's TAGS_PER_TEAM) message `i` carries, as a subquery of
   * rows `tag_k`. Every AI reply carries the version it came from, as Open Chat Studio tags them:
   * its session's version (low versions more common); in one session in ten (it spanned a publish)
   * about half of them carry the next one. ~2% of all messages also carry a topic tag.
   */
  tagsOf(i: SQL): SQL;
}

/** Shares of message types: human, ai, and the rest system. */
const HUMAN_SHARE = 0.45;
const AI_SHARE = 0.45;

export function workloadShape(seed: number, size: WorkloadSize, days: number, until: Date): WorkloadShape {
  const u = (index: SQL, salt: number) =>
    sql`((hashint8extended((${index})::bigint, ${seed * 1000 + salt}::bigint) & 2147483647)::float8 / 2147483648.0)`;
  const sessionOfMessage = (i: SQL) => sql`(1 + floor(${size.sessions} * ${u(i, 21)})::bigint)`;
  const start = sql`(${until.toISOString()}::timestamptz - ${days} * interval '1 day')`;
  return {
    u,
    start,
    teamOf: (k) => sql`(1 + ((${k}) - 1) % ${size.teams})`,
    experimentOf: (j) => sql`(1 + floor(${size.experiments} * power(${u(j, 12)}, 3))::bigint)`,
    sessionStart: (j) => sql`(${start} + ${days} * interval '1 day' * ${u(j, 11)})`,
    sessionOf: sessionOfMessage,
    messageTypeOf: (i) =>
      sql`(case when ${u(i, 23)} < ${HUMAN_SHARE} then 'human' when ${u(i, 23)} < ${HUMAN_SHARE + AI_SHARE} then 'ai' else 'system' end)`,
    tagsOf: (i) => sql`(
        select least(${VERSIONS_PER_TEAM}, 1 + floor(${VERSIONS_PER_TEAM} * power(${u(sessionOfMessage(i), 32)}, 2))::int
                     + case when ${u(sessionOfMessage(i), 36)} < 0.10 and ${u(i, 35)} < 0.5 then 1 else 0 end) as tag_k
        where ${u(i, 23)} >= ${HUMAN_SHARE} and ${u(i, 23)} < ${HUMAN_SHARE + AI_SHARE}
        union all
        select ${VERSIONS_PER_TEAM + 1} + floor(${TOPIC_TAGS.length} * ${u(i, 34)})::int where ${u(i, 33)} < 0.02)`,
  };
}
