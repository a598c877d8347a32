/**
 * The bench's INSERT statements for each profile whose tables it can write (the same two the seed
 * writes): the statcache demo schema, and Open Chat Studio's, where every NOT NULL column is filled
 * with the model's Python default as Django would (the database has no defaults).
 */
import { type SQL, sql } from 'drizzle-orm';
import { OCS_PROFILE, STATCACHE_PROFILE } from '../src/source/builtin-profiles.js';
import type { SourceProfile } from '../src/source/source-profile.js';

export interface TrafficWriter {
  /** Inserts messages from `rows`, a set of (chat_id, message_type, created_at). */
  messages(rows: SQL): SQL;
  /**
   * From `rows`, a set of (template session id, created_at), inserts one chat and one session per
   * row on the template's team, experiment, participant and platform; returns the new chat ids.
   */
  sessions(rows: SQL): SQL;
  /**
   * Tags every AI reply in the chats of `chatIds` (bigint[]) with a version of the chat's team, as
   * the platform tags a reply with the version that wrote it (v1…v12 by chat id).
   */
  tagAiReplies(chatIds: SQL): SQL;
}

/** The version tag name a chat's AI replies carry (`m` is the message row). */
const VERSION_OF_CHAT = sql`'v' || (1 + m.chat_id % 12)`;

/** The template sessions of `rows`, in row order (`ord`), from the profile's session table. */
const templates = (rows: SQL, sessions: SQL) => sql`
  template as (
    select t.ord, s.team_id, s.experiment_id, s.participant_id, s.platform, t.at
    from ${rows} with ordinality as t(id, at, ord)
    join ${sessions} s on s.id = t.id
  )`;

/** Pairs each template row with the chat inserted for it (ids are handed out in insertion order). */
const PAIRED = sql`
  paired as (
    select t.*, c.id as chat_id
    from (select *, row_number() over (order by ord) as rn from template) t
    join (select id, row_number() over (order by id) as rn from new_chats) c using (rn)
  )`;

const STATCACHE_WRITER: TrafficWriter = {
  messages: (rows) =>
    sql`insert into chat_messages (chat_id, message_type, created_at) select * from ${rows}`,
  sessions: (rows) => sql`
    with ${templates(rows, sql`experiment_sessions`)},
    new_chats as (
      insert into chats (team_id, created_at) select team_id, at from template order by ord returning id
    ),
    ${PAIRED}
    insert into experiment_sessions (team_id, experiment_id, participant_id, chat_id, platform, created_at)
    select team_id, experiment_id, participant_id, chat_id, platform, at from paired
    returning chat_id`,
  tagAiReplies: (chatIds) => sql`
    insert into chat_message_tags (message_id, tag_id)
    select m.id, t.id from chat_messages m
    join chats c on c.id = m.chat_id
    join tags t on t.team_id = c.team_id and t.category = 'experiment_version' and t.name = ${VERSION_OF_CHAT}
    where m.chat_id = any(${chatIds}) and m.message_type = 'ai'`,
};

const OCS_WRITER: TrafficWriter = {
  messages: (rows) => sql`
    insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
    select t.at, t.at, t.type, 'bench message', t.chat_id, '{}', '{}' from ${rows} as t(chat_id, type, at)`,
  sessions: (rows) => sql`
    with ${templates(rows, sql`experiments_experimentsession`)},
    new_chats as (
      insert into chat_chat (created_at, updated_at, name, team_id, metadata, translated_languages)
      select at, at, 'Unnamed Chat', team_id, '{}', '{}' from template order by ord returning id
    ),
    ${PAIRED}
    insert into experiments_experimentsession (created_at, updated_at, chat_id, experiment_id, seed_task_id, external_id,
      status, team_id, participant_id, state, platform, session_token_required)
    select at, at, chat_id, experiment_id, '', gen_random_uuid()::text, 'active', team_id, participant_id, '{}', platform, true
    from paired
    returning chat_id`,
  tagAiReplies: (chatIds) => sql`
    insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
    select m.id, m.created_at, m.created_at,
           (select id from django_content_type where app_label = 'chat' and model = 'chatmessage'), t.id, c.team_id
    from chat_chatmessage m
    join chat_chat c on c.id = m.chat_id
    join annotations_tag t on t.team_id = c.team_id and t.category = 'experiment_version' and t.name = ${VERSION_OF_CHAT}
    where m.chat_id = any(${chatIds}) and m.message_type = 'ai'`,
};

/** The writer for `source`; only the profiles the seed writes have one. */
export function writerFor(source: SourceProfile): TrafficWriter {
  if (source === STATCACHE_PROFILE) return STATCACHE_WRITER;
  if (source === OCS_PROFILE) return OCS_WRITER;
  throw new Error(
    `the bench writes the statcache and ocs profiles' tables only, not those of ${source.name}`,
  );
}
