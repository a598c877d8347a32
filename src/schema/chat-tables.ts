/**
 * statcache's demo chat platform (the `statcache` source profile), as statcache reads it. statcache
 * never writes to these except the `cached_experiment_versions` column it owns on
 * `experiment_sessions`. `migrate --create-source-tables` creates them where missing from
 * drizzle/demo/chat-tables.sql (kept in step with these definitions by hand); the migrations never do.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow();

export const teams = pgTable('teams', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  slug: text('slug').unique(),
  createdAt: createdAt(),
});

export const experiments = pgTable(
  'experiments',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull().default(''),
    createdAt: createdAt(),
  },
  // listExperiments(teamId) starts from a team's experiments.
  (t) => [index('experiments_team_id_idx').on(t.teamId)],
);

export const participants = pgTable(
  'participants',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    identifier: text('identifier').notNull(),
    platform: text('platform').notNull().default('web'),
    createdAt: createdAt(),
  },
  (t) => [unique('participants_team_platform_identifier_key').on(t.teamId, t.platform, t.identifier)],
);

export const chats = pgTable('chats', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  teamId: bigint('team_id', { mode: 'number' })
    .notNull()
    .references(() => teams.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
});

export const experimentSessions = pgTable(
  'experiment_sessions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    experimentId: bigint('experiment_id', { mode: 'number' })
      .notNull()
      .references(() => experiments.id, { onDelete: 'cascade' }),
    participantId: bigint('participant_id', { mode: 'number' }).references(() => participants.id, {
      onDelete: 'set null',
    }),
    chatId: bigint('chat_id', { mode: 'number' })
      .notNull()
      .unique('experiment_sessions_chat_id_key')
      .references(() => chats.id, { onDelete: 'cascade' }),
    platform: text('platform').notNull().default('web'),
    createdAt: createdAt(),
    /** Owned by statcache: see cached_experiment_versions in the README. */
    cachedExperimentVersions: text('cached_experiment_versions').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    // Full refresh and verify select one batch of experiments' sessions; listSessions pages one experiment.
    index('experiment_sessions_experiment_id_created_at_idx').on(t.experimentId, t.createdAt),
    // Deleting a participant sets participant_id null here: without an index that is a full scan.
    index('experiment_sessions_participant_id_idx').on(t.participantId),
  ],
);

export const chatMessages = pgTable(
  'chat_messages',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    chatId: bigint('chat_id', { mode: 'number' })
      .notNull()
      .references(() => chats.id, { onDelete: 'cascade' }),
    messageType: text('message_type').notNull(),
    content: text('content').notNull().default(''),
    createdAt: createdAt(),
  },
  (t) => [
    check('chat_messages_message_type_check', sql`${t.messageType} in ('human', 'ai', 'system')`),
    // Every aggregation reads a session's human messages by chat, bounded by time for one bucket's
    // recount: (chat_id, message_type, created_at) makes that an index range, and INCLUDE (id) (added
    // by hand in drizzle/0000_init.sql; drizzle-kit cannot express it) lets the versions cache reach
    // tag links without visiting the table, so a batched rebuild costs what one pass would. The
    // chat_id prefix also serves the ON DELETE CASCADE from chats.
    index('chat_messages_chat_id_type_created_at_idx').on(t.chatId, t.messageType, t.createdAt),
  ],
);

export const tags = pgTable(
  'tags',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    teamId: bigint('team_id', { mode: 'number' })
      .notNull()
      .references(() => teams.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    category: text('category').notNull().default(''),
  },
  (t) => [unique('tags_team_name_category_key').on(t.teamId, t.name, t.category)],
);

export const chatMessageTags = pgTable(
  'chat_message_tags',
  {
    messageId: bigint('message_id', { mode: 'number' })
      .notNull()
      .references(() => chatMessages.id, { onDelete: 'cascade' }),
    tagId: bigint('tag_id', { mode: 'number' })
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ name: 'chat_message_tags_pkey', columns: [t.messageId, t.tagId] }),
    // Deleting or renaming a tag reaches its messages through tag_id.
    index('chat_message_tags_tag_id_idx').on(t.tagId),
  ],
);
