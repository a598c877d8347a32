/**
 * The same deterministic workload as seed-workload.ts, written into Open Chat Studio's tables the way
 * Django would write them: every NOT NULL column filled with the model's Python default (the
 * database has almost none), anonymous participants as real rows (`anon:<n>`), ~10% of sessions
 * from the API without a platform, published versions as rows of experiments_experiment, and tags
 * linked to messages through annotations_customtaggeditem with the ('chat', 'chatmessage') content
 * type (looked up, never a fixed id). One INSERT … SELECT per table.
 */
import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { reserveIds } from './reserve-ids.js';
import type { SeedResult } from './seed-workload.js';
import { TAGS_PER_TEAM, TOPIC_TAGS, VERSIONS_PER_TEAM, workloadShape } from './workload-shape.js';
import type { WorkloadSize } from './workload-size.js';

export interface OcsSeedPlan {
  seed: number;
  size: WorkloadSize;
  days: number;
  until: Date;
}

/** Loads the workload into OCS's tables inside the caller's transaction. */
export async function seedOcsWorkload(tx: Executor, plan: OcsSeedPlan): Promise<SeedResult> {
  const { seed, days, until } = plan;
  const { teams: T, experiments: E, participants: P, sessions: S, messages: M } = plan.size;
  const [taken] = await queryRows<{ taken: boolean }>(
    tx,
    sql`select exists (select 1 from teams_team where slug = ${`seed-${seed}-team-1`}) as taken`,
  );
  if (taken?.taken)
    throw new InvalidInputError(
      `seed ${seed} is already loaded in this database; pass another --seed or use a fresh database`,
    );
  await tx.execute(sql`lock table users_customuser, teams_team, experiments_experiment, experiments_participant,
    chat_chat, experiments_experimentsession, chat_chatmessage, annotations_tag, annotations_customtaggeditem
    in exclusive mode`);
  const [owner] = await queryRows<{ id: unknown }>(
    tx,
    sql`insert into users_customuser default values returning id`,
  );
  const ownerId = toNumber(owner?.id);
  const t0 = await reserveIds(tx, 'teams_team', T);
  // Each experiment has a working row and one published version row (version 1).
  const e0 = await reserveIds(tx, 'experiments_experiment', 2 * E);
  const p0 = await reserveIds(tx, 'experiments_participant', P);
  const c0 = await reserveIds(tx, 'chat_chat', S);
  const s0 = await reserveIds(tx, 'experiments_experimentsession', S);
  const m0 = await reserveIds(tx, 'chat_chatmessage', M);
  const g0 = await reserveIds(tx, 'annotations_tag', T * TAGS_PER_TEAM);

  const { u, start, teamOf, experimentOf, sessionStart, sessionOf, messageTypeOf, tagsOf } = workloadShape(
    seed,
    plan.size,
    days,
    until,
  );
  const uuid = (index: SQL, salt: number) => sql`md5(${seed} || '-' || ${salt} || '-' || (${index}))::uuid`;

  await tx.execute(sql`
    insert into teams_team (id, created_at, updated_at, name, slug, public_key, metadata, files_export_task_id)
    select ${t0} + i - 1, ${start}, ${start}, 'Seed team ' || i, 'seed-' || ${seed} || '-team-' || i, '', '{}', ''
    from generate_series(1, ${T}) i`);
  // Working rows k = 1..E get ids e0 + k - 1; their version rows e0 + E + k - 1.
  await tx.execute(sql`
    insert into experiments_experiment (id, created_at, updated_at, owner_id, name, description, seed_message, public_id,
      team_id, conversational_consent_enabled, voice_response_behaviour, echo_transcript, participant_allowlist,
      is_archived, is_default_version, version_number, working_version_id, version_description, debug_mode_enabled,
      create_version_task_id, file_uploads_enabled)
    select ${e0} + (k - 1) + v * ${E}, ${start}, ${start}, ${ownerId},
           (array['Support','Sales','Onboarding','Triage','Health','Tutor','Billing','Survey'])[1 + (k % 8)] || ' bot ' || k,
           '', '', ${uuid(sql`k * 2 + v`, 1)}, ${t0} + ${teamOf(sql`k`)} - 1, false, 'reciprocal', true, '{}',
           false, v = 1, case when v = 0 then 2 else 1 end, case when v = 0 then null else ${e0} + k - 1 end, '', false, '', false
    from generate_series(1, ${E}) k cross join generate_series(0, 1) v
    order by v`);
  await tx.execute(sql`
    insert into experiments_participant (id, created_at, updated_at, identifier, team_id, public_id, platform, name, remote_id)
    select ${p0} + p - 1, ${start}, ${start}, 'anon:seed-' || ${seed} || '-' || p, ${t0} + ${teamOf(sql`p`)} - 1,
           ${uuid(sql`p`, 2)}, 'web', '', ''
    from generate_series(1, ${P}) p`);
  await tx.execute(sql`
    insert into chat_chat (id, created_at, updated_at, name, team_id, metadata, translated_languages)
    select ${c0} + j - 1, ${sessionStart(sql`j`)}, ${sessionStart(sql`j`)}, 'Unnamed Chat',
           ${t0} + ${teamOf(experimentOf(sql`j`))} - 1, '{}', '{}'
    from generate_series(1, ${S}) j`);
  await tx.execute(sql`
    insert into experiments_experimentsession (id, created_at, updated_at, chat_id, experiment_id, seed_task_id, external_id,
      status, team_id, participant_id, state, platform, session_token_required)
    select ${s0} + j - 1, ${sessionStart(sql`j`)}, ${sessionStart(sql`j`)}, ${c0} + j - 1, ${e0} + x.experiment - 1, '',
           ${uuid(sql`j`, 3)}::text, 'active', ${t0} + x.team - 1,
           ${p0} - 1 + x.team + ${T} * floor(${Math.floor(P / T)} * ${u(sql`j`, 14)})::bigint, '{}',
           case when ${u(sql`j`, 15)} < 0.08 then 'evaluations' when ${u(sql`j`, 15)} < 0.18 then null
                when ${u(sql`j`, 15)} < 0.55 then 'web' when ${u(sql`j`, 15)} < 0.85 then 'whatsapp' else 'telegram' end,
           true
    from generate_series(1, ${S}) j
    cross join lateral (select ${experimentOf(sql`j`)} as experiment) e
    cross join lateral (select e.experiment, ${teamOf(sql`e.experiment`)} as team) x`);
  await tx.execute(sql`
    insert into chat_chatmessage (id, created_at, updated_at, message_type, content, chat_id, metadata, translations)
    select ${m0} + i - 1, x.at, x.at,
           ${messageTypeOf(sql`i`)},
           'seeded message ' || i, ${c0} + x.j - 1, '{}', '{}'
    from generate_series(1, ${M}) i
    cross join lateral (select ${sessionOf(sql`i`)} as j) s
    cross join lateral (select s.j, ${sessionStart(sql`s.j`)} + interval '1 second' * floor(10800 * ${u(sql`i`, 22)}) as at) x`);
  await tx.execute(sql`
    insert into annotations_tag (id, slug, created_at, updated_at, name, team_id, category, is_system_tag)
    select ${g0} + (t - 1) * ${TAGS_PER_TEAM} + k - 1, 'seed-' || ${seed} || '-' || t || '-' || k, ${start}, ${start},
           case when k <= ${VERSIONS_PER_TEAM} then 'v' || k else (${sql.param([...TOPIC_TAGS])}::text[])[k - ${VERSIONS_PER_TEAM}] end,
           ${t0} + t - 1,
           case when k <= ${VERSIONS_PER_TEAM} then 'experiment_version' else 'topic' end,
           k <= ${VERSIONS_PER_TEAM}
    from generate_series(1, ${T}) t cross join generate_series(1, ${TAGS_PER_TEAM}) k`);
  // As the statcache seed: every AI reply carries its version, ~2% of messages a topic tag (message content type).
  const [links] = await queryRows<{ n: unknown }>(
    tx,
    sql`
    with links as (
      insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
      select (${m0} + i - 1)::int, ${start}, ${start},
             (select id from django_content_type where app_label = 'chat' and model = 'chatmessage'),
             ${g0} + (team - 1) * ${TAGS_PER_TEAM} + tag_k - 1, ${t0} + team - 1
      from generate_series(1, ${M}) i
      cross join lateral (select ${teamOf(experimentOf(sessionOf(sql`i`)))} as team) t
      cross join lateral ${tagsOf(sql`i`)} k
      returning 1
    )
    select count(*) as n from links`,
  );
  await tx.execute(sql`analyze teams_team, experiments_experiment, experiments_participant, chat_chat,
    experiments_experimentsession, chat_chatmessage, annotations_tag, annotations_customtaggeditem`);
  return { seed, ...plan.size, tagLinks: toNumber(links?.n) };
}
