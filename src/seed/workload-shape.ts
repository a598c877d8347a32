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
  /**
   * The tags (k, 1-based within its team's TAGS_PER_TEAM) message `i` carries, as a subquery of
   * rows `tag_k`: ~4% a version (low versions more common), ~2% a topic.
   */
  tagsOf(i: SQL): SQL;
}

export function workloadShape(seed: number, size: WorkloadSize, days: number, until: Date): WorkloadShape {
  const u = (index: SQL, salt: number) =>
    sql`((hashint8extended((${index})::bigint, ${seed * 1000 + salt}::bigint) & 2147483647)::float8 / 2147483648.0)`;
  const start = sql`(${until.toISOString()}::timestamptz - ${days} * interval '1 day')`;
  return {
    u,
    start,
    teamOf: (k) => sql`(1 + ((${k}) - 1) % ${size.teams})`,
    experimentOf: (j) => sql`(1 + floor(${size.experiments} * power(${u(j, 12)}, 3))::bigint)`,
    sessionStart: (j) => sql`(${start} + ${days} * interval '1 day' * ${u(j, 11)})`,
    sessionOf: (i) => sql`(1 + floor(${size.sessions} * ${u(i, 21)})::bigint)`,
    tagsOf: (i) => sql`(
        select 1 + floor(${VERSIONS_PER_TEAM} * power(${u(i, 32)}, 2))::int as tag_k where ${u(i, 31)} < 0.04
        union all
        select ${VERSIONS_PER_TEAM + 1} + floor(${TOPIC_TAGS.length} * ${u(i, 34)})::int where ${u(i, 33)} < 0.02)`,
  };
}
