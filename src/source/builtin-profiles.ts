/** The profiles statcache knows by name: its own demo schema, and Open Chat Studio's. */
import type { SourceProfile } from './source-profile.js';

/** statcache's demo schema (`migrate --create-source-tables` creates it): today's table names. */
export const STATCACHE_PROFILE: SourceProfile = {
  name: 'statcache',
  origin: 'builtin',
  schema: 'public',
  teams: { table: 'teams', id: 'id' },
  experiments: { table: 'experiments', id: 'id', teamId: 'team_id', name: 'name', versionOf: undefined },
  participants: { table: 'participants', id: 'id', identifier: 'identifier' },
  chats: { table: 'chats', id: 'id', teamId: 'team_id' },
  sessions: {
    table: 'experiment_sessions',
    id: 'id',
    teamId: 'team_id',
    experimentId: 'experiment_id',
    participantId: 'participant_id',
    chatId: 'chat_id',
    platform: 'platform',
    platformNullable: false,
    createdAt: 'created_at',
    versionsCache: 'cached_experiment_versions',
  },
  messages: {
    table: 'chat_messages',
    id: 'id',
    chatId: 'chat_id',
    type: 'message_type',
    createdAt: 'created_at',
  },
  tags: { table: 'tags', id: 'id', name: 'name', category: 'category' },
  tagLinks: { table: 'chat_message_tags', tagId: 'tag_id', messageId: 'message_id' },
};

/**
 * Open Chat Studio (dimagi/open-chat-studio) as Django creates it: see shared/ocs/README.md. Published
 * versions are rows of experiments_experiment pointing at their working row (working_version_id);
 * tags link to messages through the generic annotations_customtaggeditem, filtered by the
 * ('chat', 'chatmessage') content type; sessions created through the API have no platform.
 */
export const OCS_PROFILE: SourceProfile = {
  name: 'ocs',
  origin: 'builtin',
  schema: 'public',
  teams: { table: 'teams_team', id: 'id' },
  experiments: {
    table: 'experiments_experiment',
    id: 'id',
    teamId: 'team_id',
    name: 'name',
    versionOf: 'working_version_id',
  },
  participants: { table: 'experiments_participant', id: 'id', identifier: 'identifier' },
  chats: { table: 'chat_chat', id: 'id', teamId: 'team_id' },
  sessions: {
    table: 'experiments_experimentsession',
    id: 'id',
    teamId: 'team_id',
    experimentId: 'experiment_id',
    participantId: 'participant_id',
    chatId: 'chat_id',
    platform: 'platform',
    platformNullable: true,
    createdAt: 'created_at',
    versionsCache: 'cached_experiment_versions',
  },
  messages: {
    table: 'chat_chatmessage',
    id: 'id',
    chatId: 'chat_id',
    type: 'message_type',
    createdAt: 'created_at',
  },
  tags: { table: 'annotations_tag', id: 'id', name: 'name', category: 'category' },
  tagLinks: {
    table: 'annotations_customtaggeditem',
    tagId: 'tag_id',
    messageId: 'object_id',
    contentType: {
      column: 'content_type_id',
      table: 'django_content_type',
      id: 'id',
      match: { app_label: 'chat', model: 'chatmessage' },
    },
  },
};

/** The names STATCACHE_SOURCE accepts besides a path to a JSON profile. */
export const BUILTIN_PROFILES: Readonly<Record<string, SourceProfile>> = {
  statcache: STATCACHE_PROFILE,
  ocs: OCS_PROFILE,
};
