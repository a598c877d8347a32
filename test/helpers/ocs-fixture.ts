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

  /**
   * A working experiment, or with `versionOf` a published version row pointing at it (its version
   * number the next of this process's counter, or `versionNumber`).
   */
  async experiment(
    teamId: number,
    ownerId: number,
    options: { versionOf?: number; name?: string; versionNumber?: number } = {},
  ): Promise<number> {
    return id(
      this.db(),
      sql`insert into experiments_experiment (created_at, updated_at, owner_id, name, description, seed_message, public_id,
            team_id, conversational_consent_enabled, voice_response_behaviour, echo_transcript, participant_allowlist,
            is_archived, is_default_version, version_number, working_version_id, version_description,
            debug_mode_enabled, create_version_task_id, file_uploads_enabled)
          values (now(), now(), ${ownerId}, ${options.name ?? unique('bot')}, '', '', ${randomUUID()}::uuid, ${teamId}, false,
                  'reciprocal', true, '{}', false, false, ${options.versionOf === undefined ? 1 : (options.versionNumber ?? ++versionNumber)},
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

/** Per experiment, what the README's definitions under `ocs` say its totals are. */
export interface OcsExperimentRecount {
  sessions: number;
  participants: number;
  humanMessages: number;
  lastActivityAt: Date | null;
}

/**
 * Recounts every experiment's totals straight from OCS's tables, by the README's definitions under
 * `ocs` and with none of statcache's SQL: experiments are the rows with `working_version_id IS NULL`;
 * a session on a published-version row counts under the row's working experiment; a session counts
 * unless its own platform is 'evaluations' (NULL counts); participants are distinct over counted
 * sessions; human messages (and the latest one) are those in counted sessions' chats.
 */
export async function recountOcsExperiments(
  db: Executor,
  excludedPlatforms: readonly string[],
): Promise<Map<number, OcsExperimentRecount>> {
  const rows = await queryRows<{
    id: unknown;
    sessions: unknown;
    participants: unknown;
    human_messages: unknown;
    last_activity_at: unknown;
  }>(
    db,
    sql`with counted as (
          select coalesce(x.working_version_id, x.id) as experiment_id, s.participant_id, s.chat_id
          from experiments_experimentsession s join experiments_experiment x on x.id = s.experiment_id
          where not coalesce(s.platform = any(${sql.param([...excludedPlatforms])}::text[]), false)
        ), humans as (
          select c.experiment_id, count(*) as n, max(m.created_at) as last
          from counted c join chat_chatmessage m on m.chat_id = c.chat_id and m.message_type = 'human'
          group by c.experiment_id
        )
        select e.id,
               (select count(*) from counted c where c.experiment_id = e.id) as sessions,
               (select count(distinct c.participant_id) from counted c where c.experiment_id = e.id) as participants,
               coalesce(h.n, 0) as human_messages, h.last as last_activity_at
        from experiments_experiment e left join humans h on h.experiment_id = e.id
        where e.working_version_id is null order by e.id`,
  );
  return new Map(
    rows.map((r) => [
      toNumber(r.id),
      {
        sessions: toNumber(r.sessions),
        participants: toNumber(r.participants),
        humanMessages: toNumber(r.human_messages),
        lastActivityAt: r.last_activity_at === null ? null : new Date(r.last_activity_at as string | Date),
      },
    ]),
  );
}

/** Per session, what the README's definitions under `ocs` say its totals and versions are. */
export interface OcsSessionRecount {
  humanMessages: number;
  lastActivityAt: Date | null;
  experimentVersions: string[];
}

/**
 * Recounts every session straight from OCS's tables: human messages of its chat (every platform),
 * the latest one, and the distinct names of `experiment_version` tags linked through
 * annotations_customtaggeditem with the ('chat', 'chatmessage') content type to a message (of any
 * type) of its chat, in natural order ({@link naturalCompare}).
 */
export async function recountOcsSessions(db: Executor): Promise<Map<number, OcsSessionRecount>> {
  const rows = await queryRows<{
    id: unknown;
    human_messages: unknown;
    last_activity_at: unknown;
    versions: string[] | null;
  }>(
    db,
    sql`select s.id,
               (select count(*) from chat_chatmessage m where m.chat_id = s.chat_id and m.message_type = 'human') as human_messages,
               (select max(m.created_at) from chat_chatmessage m where m.chat_id = s.chat_id and m.message_type = 'human')
                 as last_activity_at,
               (select array_agg(distinct g.name::text) from chat_chatmessage m
                  join annotations_customtaggeditem l on l.object_id = m.id
                   and l.content_type_id = (select id from django_content_type where app_label = 'chat' and model = 'chatmessage')
                  join annotations_tag g on g.id = l.tag_id and g.category = 'experiment_version'
                where m.chat_id = s.chat_id) as versions
        from experiments_experimentsession s order by s.id`,
  );
  return new Map(
    rows.map((r) => [
      toNumber(r.id),
      {
        humanMessages: toNumber(r.human_messages),
        lastActivityAt: r.last_activity_at === null ? null : new Date(r.last_activity_at as string | Date),
        experimentVersions: [...(r.versions ?? [])].sort(naturalCompare),
      },
    ]),
  );
}

/**
 * The README's natural order, character by character: where both names have a run of digits, the
 * runs compare by numeric value; everything else by code point; names equal in value (`v2`, `v02`)
 * by code point.
 */
export function naturalCompare(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  const digit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    if (digit(x[i]) && digit(y[j])) {
      let p = '';
      let q = '';
      while (digit(x[i])) p += x[i++];
      while (digit(y[j])) q += y[j++];
      const d = BigInt(p) - BigInt(q);
      if (d !== 0n) return d < 0n ? -1 : 1;
    } else {
      const d = (x[i]?.codePointAt(0) as number) - (y[j]?.codePointAt(0) as number);
      if (d !== 0) return d;
      i++;
      j++;
    }
  }
  if (x.length - i !== y.length - j) return x.length - i - (y.length - j);
  return byCodePoint(x, y);
}

function byCodePoint(x: string[], y: string[]): number {
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) as number) - (y[i]?.codePointAt(0) as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
