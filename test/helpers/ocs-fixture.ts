/**
 * Writes Open Chat Studio rows the way Django does: every NOT NULL column filled as the model's
 * Python defaults would (the database has almost no defaults), foreign keys deferred to commit,
 * cascades as separate statements, children first (see drizzle/demo (ocs-tables.sql)/README.md).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows, type StatDb, toNumber } from '../../src/db/types.js';

type Executor = Pick<StatDb, 'execute'>;
type MessageType = 'human' | 'ai' | 'system';

let counter = 0;
/** Version numbers are unique per experiment: distinct everywhere, so a version row can be re-pointed. */
let versionNumber = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

async function id(db: Executor, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = await queryRows<{ id: unknown }>(db, query);
  return toNumber(row?.id);
}

export class OcsFixture {
  constructor(private readonly db: () => StatDb) {}

  async user(): Promise<number> {
    return id(this.db(), sql`insert into users_customuser default values returning id`);
  }

  async team(): Promise<number> {
    const slug = unique('team');
    return id(
      this.db(),
      sql`insert into teams_team (created_at, updated_at, name, slug, public_key, metadata, files_export_task_id)
          values (now(), now(), ${slug}, ${slug}, '', '{}', '') returning id`,
    );
  }

  /** A working experiment, or with `versionOf` a published version row pointing at it. */
  async experiment(
    teamId: number,
    ownerId: number,
    options: { versionOf?: number; name?: string } = {},
  ): Promise<number> {
    return id(
      this.db(),
      sql`insert into experiments_experiment (created_at, updated_at, owner_id, name, description, seed_message, public_id,
            team_id, conversational_consent_enabled, voice_response_behaviour, echo_transcript, participant_allowlist,
            is_archived, is_default_version, version_number, working_version_id, version_description,
            debug_mode_enabled, create_version_task_id, file_uploads_enabled)
          values (now(), now(), ${ownerId}, ${options.name ?? unique('bot')}, '', '', ${randomUUID()}::uuid, ${teamId}, false,
                  'reciprocal', true, '{}', false, false, ${options.versionOf === undefined ? 1 : ++versionNumber},
                  ${options.versionOf ?? null}, '', false, '', false)
          returning id`,
    );
  }

  async participant(teamId: number): Promise<number> {
    return id(
      this.db(),
      sql`insert into experiments_participant (created_at, updated_at, identifier, team_id, public_id, platform, name, remote_id)
          values (now(), now(), ${`anon:${randomUUID()}`}, ${teamId}, ${randomUUID()}::uuid, 'web', '', '') returning id`,
    );
  }

  /** A chat and its session (Django saves the chat first). `platform` null: an API session. */
  async session(options: {
    teamId: number;
    experimentId: number;
    participantId: number;
    createdAt: string;
    platform: string | null;
  }): Promise<{ id: number; chatId: number }> {
    const chatId = await id(
      this.db(),
      sql`insert into chat_chat (created_at, updated_at, name, team_id, metadata, translated_languages)
          values (${options.createdAt}::timestamptz, ${options.createdAt}::timestamptz, 'Unnamed Chat', ${options.teamId}, '{}', '{}')
          returning id`,
    );
    const sessionId = await id(
      this.db(),
      sql`insert into experiments_experimentsession (created_at, updated_at, chat_id, experiment_id, seed_task_id, external_id,
            status, team_id, participant_id, state, platform, session_token_required)
          values (${options.createdAt}::timestamptz, ${options.createdAt}::timestamptz, ${chatId}, ${options.experimentId}, '',
                  ${randomUUID()}, 'setup', ${options.teamId}, ${options.participantId}, '{}', ${options.platform}, true)
          returning id`,
    );
    return { id: sessionId, chatId };
  }

  async messages(chatId: number, messages: [MessageType, string][]): Promise<number[]> {
    const ids: number[] = [];
    for (const [type, at] of messages)
      ids.push(
        await id(
          this.db(),
          sql`insert into chat_chatmessage (created_at, updated_at, message_type, content, chat_id, metadata, translations)
              values (${at}::timestamptz, now(), ${type}, 'text', ${chatId}, '{}', '{}') returning id`,
        ),
      );
    return ids;
  }

  async tag(teamId: number, name: string, category = 'experiment_version'): Promise<number> {
    return id(
      this.db(),
      sql`insert into annotations_tag (slug, created_at, updated_at, name, team_id, category, is_system_tag)
          values (${unique(name)}, now(), now(), ${name}, ${teamId}, ${category}, true) returning id`,
    );
  }

  /**
   * Links a tag to a message (`on: 'chatmessage'`) or to a chat (`on: 'chat'`), by content type; a
   * link already there is kept (as taggit's add does).
   */
  async link(
    teamId: number,
    tagId: number,
    objectId: number,
    on: 'chatmessage' | 'chat' = 'chatmessage',
  ): Promise<void> {
    await this.db().execute(
      sql`insert into annotations_customtaggeditem (object_id, created_at, updated_at, content_type_id, tag_id, team_id)
          values (${objectId}, now(), now(),
                  (select id from django_content_type where app_label = 'chat' and model = ${on}), ${tagId}, ${teamId})
          on conflict do nothing`,
    );
  }

  /**
   * Deletes a session as Django's Collector does, in one transaction: the session, then (its
   * post_delete signal) the chat's messages, then the chat; message tag links are left behind.
   */
  async deleteSession(session: { id: number; chatId: number }): Promise<void> {
    await this.db().transaction(async (tx) => {
      await tx.execute(sql`delete from experiments_experimentsession where id = ${session.id}`);
      await tx.execute(sql`delete from chat_chatmessage where chat_id = ${session.chatId}`);
      await tx.execute(sql`delete from chat_chat where id = ${session.chatId}`);
    });
  }
}
