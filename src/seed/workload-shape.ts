/**
 * The seeded workload's shape, shared by every profile's seed: pseudo-random draws that are pure
 * functions of a row's index and the seed (hashint8extended), and where each row falls (which team
 * an experiment belongs to, which experiment a session talks to, when it starts, which session a
 * message is in). Indexes are 1-based.
 */
import { type SQL, sql } from 'drizzle-orm';
import type { WorkloadSize } from './workload-size.js';

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
  };
}
