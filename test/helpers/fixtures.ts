/** Inserts chat platform rows with plain SQL, the way an adopter's application would. */
import { sql } from 'drizzle-orm';
import { DEFAULT_EXCLUDED_PLATFORMS } from '../../src/config.js';
import { queryRows, type StatDb, toDate, toNumber } from '../../src/db/types.js';

const iso = (value: unknown): string | null => toDate(value)?.toISOString() ?? null;

type MessageType = 'human' | 'ai' | 'system';

let counter = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

export class ChatFixture {
  /**
   * `db`, or a function returning it: the shared setup (setup.ts) hands out a fixture before its
   * beforeAll has created the file's database, so the fixture looks the database up on each insert.
   */
  constructor(private readonly database: StatDb | (() => StatDb)) {}

  private get db(): StatDb {
    return typeof this.database === 'function' ? this.database() : this.database;
  }

  async team(slug = unique('team')): Promise<number> {
    return this.id(sql`insert into teams (slug) values (${slug}) returning id`);
  }

  async experiment(teamId: number, name = unique('experiment')): Promise<number> {
    return this.id(sql`insert into experiments (team_id, name) values (${teamId}, ${name}) returning id`);
  }

  async participant(teamId: number, identifier = unique('user')): Promise<number> {
    return this.id(
      sql`insert into participants (team_id, identifier) values (${teamId}, ${identifier}) returning id`,
    );
  }

  /** A session and its chat. */
  async session(options: {
    teamId: number;
    experimentId: number;
    createdAt: string;
    participantId?: number | null;
    platform?: string;
  }): Promise<{ id: number; chatId: number }> {
    const chatId = await this.id(
      sql`insert into chats (team_id, created_at) values (${options.teamId}, ${options.createdAt}::timestamptz) returning id`,
    );
    const id = await this.id(sql`
      insert into experiment_sessions (team_id, experiment_id, participant_id, chat_id, platform, created_at)
      values (${options.teamId}, ${options.experimentId}, ${options.participantId ?? null}, ${chatId},
              ${options.platform ?? 'web'}, ${options.createdAt}::timestamptz)
      returning id`);
    return { id, chatId };
  }

  /** Messages in a chat, each [type, ISO timestamp]; returns their ids in order. */
  async messages(chatId: number, messages: [MessageType, string][]): Promise<number[]> {
    const ids: number[] = [];
    for (const [type, at] of messages) {
      ids.push(
        await this.id(sql`insert into chat_messages (chat_id, message_type, created_at)
                           values (${chatId}, ${type}, ${at}::timestamptz) returning id`),
      );
    }
    return ids;
  }

  async tag(teamId: number, name: string, category = 'experiment_version'): Promise<number> {
    return this.id(
      sql`insert into tags (team_id, name, category) values (${teamId}, ${name}, ${category}) returning id`,
    );
  }

  async tagMessage(messageId: number, tagId: number): Promise<void> {
    await this.db.execute(
      sql`insert into chat_message_tags (message_id, tag_id) values (${messageId}, ${tagId})`,
    );
  }

  private async id(query: ReturnType<typeof sql>): Promise<number> {
    const [row] = await queryRows<{ id: unknown }>(this.db, query);
    return toNumber(row?.id);
  }
}

export interface StoredExperimentBucket {
  bucketSize: string;
  bucketStart: string;
  bucketEnd: string;
  sessions: number;
  participants: number;
  humanMessages: number;
  lastActivityAt: string | null;
}

/** An experiment's stored buckets, oldest first, with ISO strings for easy comparison. */
export async function experimentBuckets(db: StatDb, experimentId: number): Promise<StoredExperimentBucket[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select bucket_size, bucket_start, bucket_end, session_count, new_participant_count, human_message_count, last_activity_at
        from experiment_statistics_buckets where experiment_id = ${experimentId} order by bucket_start`,
  );
  return rows.map((r) => ({
    bucketSize: String(r.bucket_size),
    bucketStart: iso(r.bucket_start) as string,
    bucketEnd: iso(r.bucket_end) as string,
    sessions: toNumber(r.session_count),
    participants: toNumber(r.new_participant_count),
    humanMessages: toNumber(r.human_message_count),
    lastActivityAt: iso(r.last_activity_at),
  }));
}

/** A session's stored buckets, oldest first. */
export async function sessionBuckets(
  db: StatDb,
  sessionId: number,
): Promise<{ bucketStart: string; humanMessages: number; lastActivityAt: string | null }[]> {
  const rows = await queryRows<Record<string, unknown>>(
    db,
    sql`select bucket_start, human_message_count, last_activity_at
        from session_statistics_buckets where session_id = ${sessionId} order by bucket_start`,
  );
  return rows.map((r) => ({
    bucketStart: iso(r.bucket_start) as string,
    humanMessages: toNumber(r.human_message_count),
    lastActivityAt: iso(r.last_activity_at),
  }));
}

/**
 * The dashboard numbers counted live, the slow way, straight from the definitions: what summed
 * buckets must equal.
 */
export async function liveExperimentTotals(
  db: StatDb,
  experimentId: number,
  excludedPlatforms: readonly string[] = DEFAULT_EXCLUDED_PLATFORMS,
): Promise<{ sessions: number; participants: number; humanMessages: number; lastActivityAt: string | null }> {
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`select
          (select count(*) from experiment_sessions s where s.experiment_id = ${experimentId}
             and not (s.platform = any(${sql.param(excludedPlatforms)}::text[]))) as sessions,
          (select count(distinct s.participant_id) from experiment_sessions s where s.experiment_id = ${experimentId}
             and not (s.platform = any(${sql.param(excludedPlatforms)}::text[]))) as participants,
          (select count(*) from chat_messages m join experiment_sessions s on s.chat_id = m.chat_id
            where s.experiment_id = ${experimentId} and m.message_type = 'human'
              and not (s.platform = any(${sql.param(excludedPlatforms)}::text[]))) as human_messages,
          (select max(m.created_at) from chat_messages m join experiment_sessions s on s.chat_id = m.chat_id
            where s.experiment_id = ${experimentId} and m.message_type = 'human'
              and not (s.platform = any(${sql.param(excludedPlatforms)}::text[]))) as last_activity_at`,
  );
  return {
    sessions: toNumber(row?.sessions),
    participants: toNumber(row?.participants),
    humanMessages: toNumber(row?.human_messages),
    lastActivityAt: iso(row?.last_activity_at),
  };
}
