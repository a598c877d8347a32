/**
 * A deterministic synthetic chat workload, generated inside PostgreSQL: every row is a pure function
 * of its index and the seed (hashint8extended), so the same seed and size give the same data on a
 * fresh database, and 10M messages load in one INSERT … SELECT per table rather than row by row.
 * Shape: experiments with skewed traffic (a few busy, a long tail), sessions on several platforms
 * with ~8% `evaluations` and ~10% without a participant, participants with several sessions,
 * human/ai/system messages spread up to 3 hours after their session starts, every AI reply tagged
 * with its version.
 * Under the ocs profile the same shape goes into Open Chat Studio's tables (seed-ocs-workload.ts).
 */
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../source/builtin-profiles.js';
import type { SourceProfile } from '../source/source-profile.js';
import { reserveIds } from './reserve-ids.js';
import { seedOcsWorkload } from './seed-ocs-workload.js';
import { TAGS_PER_TEAM, TOPIC_TAGS, VERSIONS_PER_TEAM, workloadShape } from './workload-shape.js';
import type { WorkloadSize } from './workload-size.js';

export interface SeedOptions {
  /** Seed of the pseudo-random generator. @defaultValue 1 */
  seed?: number;
  size: WorkloadSize;
  /** Sessions start within `days` before `until`. @defaultValue 90 */
  days?: number;
  /** @defaultValue 2026-11-01T00:00:00Z, fixed so that a seed always means the same data */
  until?: Date;
  /**
   * Whose tables to write: the statcache demo schema, or Open Chat Studio's (rows as Django writes
   * them). @defaultValue the statcache demo schema
   */
  source?: SourceProfile;
}

export const DEFAULT_SEED_UNTIL = new Date('2026-11-01T00:00:00Z');
export const DEFAULT_SEED_DAYS = 90;
const MAX_SEED = 2_000_000_000;

export interface SeedResult extends WorkloadSize {
  seed: number;
  tagLinks: number;
}

/** Loads one workload in a single transaction; refuses a seed already loaded in this database. */
export async function seedWorkload(db: StatDb, options: SeedOptions): Promise<SeedResult> {
  const seed = options.seed ?? 1;
  const days = options.days ?? DEFAULT_SEED_DAYS;
  const until = options.until ?? DEFAULT_SEED_UNTIL;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > MAX_SEED)
    throw new InvalidInputError(`--seed must be a whole number from 0 to ${MAX_SEED} (got '${seed}')`);
  if (!Number.isFinite(days) || days <= 0 || days > 3660)
    throw new InvalidInputError(`--days must be from 1 to 3660 (got '${days}')`);
  if (Number.isNaN(until.getTime()))
    throw new InvalidInputError('--until must be an ISO-8601 date, e.g. 2026-11-01T00:00:00Z');
  const { teams: T, experiments: E, participants: P, sessions: S, messages: M } = options.size;
  const source = options.source ?? STATCACHE_PROFILE;
  if (source === OCS_PROFILE)
    return db.transaction((tx) => seedOcsWorkload(tx, { seed, size: options.size, days, until }));
  if (source !== STATCACHE_PROFILE)
    throw new InvalidInputError(
      `the seed writes the statcache and ocs profiles' tables only, not those of source profile ${source.name}; seed a database of one of those`,
    );

  return db.transaction(async (tx) => {
    const [taken] = await queryRows<{ taken: boolean }>(
      tx,
      sql`select exists (select 1 from teams where slug = ${`seed-${seed}-team-1`}) as taken`,
    );
    if (taken?.taken) {
      throw new InvalidInputError(
        `seed ${seed} is already loaded in this database; pass another --seed or use a fresh database`,
      );
    }
    // Exclusive locks let us reserve contiguous id ranges: row i gets id first + i - 1.
    await tx.execute(
      sql`lock table teams, experiments, participants, chats, experiment_sessions, chat_messages, tags, chat_message_tags in exclusive mode`,
    );
    const t0 = await reserveIds(tx, 'teams', T);
    const e0 = await reserveIds(tx, 'experiments', E);
    const p0 = await reserveIds(tx, 'participants', P);
    const c0 = await reserveIds(tx, 'chats', S);
    const s0 = await reserveIds(tx, 'experiment_sessions', S);
    const m0 = await reserveIds(tx, 'chat_messages', M);
    const g0 = await reserveIds(tx, 'tags', T * TAGS_PER_TEAM);

    const { u, start, teamOf, experimentOf, sessionStart, sessionOf, messageTypeOf, tagsOf } = workloadShape(
      seed,
      options.size,
      days,
      until,
    );

    await tx.execute(sql`
      insert into teams (id, slug, created_at)
      select ${t0} + i - 1, 'seed-' || ${seed} || '-team-' || i, ${start}
      from generate_series(1, ${T}) i`);
    await tx.execute(sql`
      insert into experiments (id, team_id, name, created_at)
      select ${e0} + k - 1, ${t0} + ${teamOf(sql`k`)} - 1,
             (array['Support','Sales','Onboarding','Triage','Health','Tutor','Billing','Survey'])[1 + (k % 8)] || ' bot ' || k,
             ${start}
      from generate_series(1, ${E}) k`);
    // Participant p belongs to team 1 + (p - 1) % T, so sessions can pick one of their own team.
    await tx.execute(sql`
      insert into participants (id, team_id, identifier, platform, created_at)
      select ${p0} + p - 1, ${t0} + ${teamOf(sql`p`)} - 1, 'seed-' || ${seed} || '-user-' || p || '@example.com', 'web', ${start}
      from generate_series(1, ${P}) p`);
    await tx.execute(sql`
      insert into chats (id, team_id, created_at)
      select ${c0} + j - 1, ${t0} + ${teamOf(experimentOf(sql`j`))} - 1, ${sessionStart(sql`j`)}
      from generate_series(1, ${S}) j`);
    await tx.execute(sql`
      insert into experiment_sessions (id, team_id, experiment_id, participant_id, chat_id, platform, created_at)
      select ${s0} + j - 1, ${t0} + x.team - 1, ${e0} + x.experiment - 1,
             case when ${u(sql`j`, 13)} < 0.10 then null
                  else ${p0} - 1 + x.team + ${T} * floor(${Math.floor(P / T)} * ${u(sql`j`, 14)})::bigint end,
             ${c0} + j - 1,
             case when ${u(sql`j`, 15)} < 0.08 then 'evaluations' when ${u(sql`j`, 15)} < 0.55 then 'web'
                  when ${u(sql`j`, 15)} < 0.85 then 'whatsapp' else 'telegram' end,
             ${sessionStart(sql`j`)}
      from generate_series(1, ${S}) j
      cross join lateral (select ${experimentOf(sql`j`)} as experiment) e
      cross join lateral (select e.experiment, ${teamOf(sql`e.experiment`)} as team) x`);
    await tx.execute(sql`
      insert into chat_messages (id, chat_id, message_type, content, created_at)
      select ${m0} + i - 1, ${c0} + x.j - 1,
             ${messageTypeOf(sql`i`)},
             'seeded message ' || i,
             ${sessionStart(sql`x.j`)} + interval '1 second' * floor(10800 * ${u(sql`i`, 22)})
      from generate_series(1, ${M}) i
      cross join lateral (select ${sessionOf(sql`i`)} as j) x`);
    await tx.execute(sql`
      insert into tags (id, team_id, name, category)
      select ${g0} + (t - 1) * ${TAGS_PER_TEAM} + k - 1, ${t0} + t - 1,
             case when k <= ${VERSIONS_PER_TEAM} then 'v' || k else (${sql.param([...TOPIC_TAGS])}::text[])[k - ${VERSIONS_PER_TEAM}] end,
             case when k <= ${VERSIONS_PER_TEAM} then 'experiment_version' else 'topic' end
      from generate_series(1, ${T}) t cross join generate_series(1, ${TAGS_PER_TEAM}) k`);
    // Every AI reply carries its version, ~2% of messages a topic tag (workload-shape.ts).
    const tagLinks = await queryRows<{ n: unknown }>(
      tx,
      sql`
      with links as (
        insert into chat_message_tags (message_id, tag_id)
        select ${m0} + i - 1, ${g0} + (team - 1) * ${TAGS_PER_TEAM} + tag_k - 1
        from generate_series(1, ${M}) i
        cross join lateral (select ${teamOf(experimentOf(sessionOf(sql`i`)))} as team) t
        cross join lateral ${tagsOf(sql`i`)} k
        returning 1
      )
      select count(*) as n from links`,
    );
    await tx.execute(
      sql`analyze teams, experiments, participants, chats, experiment_sessions, chat_messages, tags, chat_message_tags`,
    );
    return { seed, ...options.size, tagLinks: toNumber(tagLinks[0]?.n) };
  });
}
