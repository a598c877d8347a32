/**
 * statcache's own tables: the hourly/daily/monthly buckets and a log of refresh runs.
 * Buckets hold no foreign keys to the chat tables on purpose: a refresh inserting a bucket for a
 * session that a writer is deleting at that moment would fail the whole batch, and the chat
 * platform's deletes would pay for cascades into the cache. Orphans are removed by the refresh.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { BucketSize } from '../buckets/bucket-sizes.js';

const tsz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const experimentStatisticsBuckets = pgTable(
  'experiment_statistics_buckets',
  {
    teamId: bigint('team_id', { mode: 'number' }).notNull(),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    bucketSize: text('bucket_size').$type<BucketSize>().notNull(),
    bucketStart: tsz('bucket_start').notNull(),
    bucketEnd: tsz('bucket_end').notNull(),
    sessionCount: integer('session_count').notNull().default(0),
    newParticipantCount: integer('new_participant_count').notNull().default(0),
    humanMessageCount: integer('human_message_count').notNull().default(0),
    lastActivityAt: tsz('last_activity_at'),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // One bucket per experiment, size and start; as the primary key it also serves every per-experiment read
    // (totals sum one experiment's buckets by index range) and the upsert's ON CONFLICT target.
    primaryKey({
      name: 'experiment_statistics_buckets_pkey',
      columns: [t.experimentId, t.bucketSize, t.bucketStart],
    }),
    check('experiment_statistics_buckets_size_check', sql`${t.bucketSize} in ('hour', 'day', 'month')`),
    check(
      'experiment_statistics_buckets_aligned_check',
      sql`${t.bucketStart} = date_trunc(${t.bucketSize}, ${t.bucketStart}, 'UTC') and ${t.bucketEnd} = ((${t.bucketStart} at time zone 'UTC') + ('1 ' || ${t.bucketSize})::interval) at time zone 'UTC'`,
    ),
  ],
);

export const sessionStatisticsBuckets = pgTable(
  'session_statistics_buckets',
  {
    teamId: bigint('team_id', { mode: 'number' }).notNull(),
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    sessionId: bigint('session_id', { mode: 'number' }).notNull(),
    /**
     * The session's platform when the bucket was written (copied like team and experiment), so
     * the experiment recount can leave out excluded platforms without reading every session row.
     */
    // NULL when the session has none (a nullable platform in the source profile, e.g. OCS's API
    // sessions); NULL never matches an excluded platform.
    platform: text('platform'),
    bucketSize: text('bucket_size').$type<BucketSize>().notNull(),
    bucketStart: tsz('bucket_start').notNull(),
    bucketEnd: tsz('bucket_end').notNull(),
    humanMessageCount: integer('human_message_count').notNull().default(0),
    lastActivityAt: tsz('last_activity_at'),
    updatedAt: tsz('updated_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({
      name: 'session_statistics_buckets_pkey',
      columns: [t.sessionId, t.bucketSize, t.bucketStart],
    }),
    // A full refresh replaces one batch of experiments' session buckets (experiment_id prefix);
    // compression merges one size of a batch (experiment_id, bucket_size, bucket_start range); the
    // incremental refresh recomputes an experiment bucket as the sum of its sessions' buckets of
    // each size in that bucket's range without reading the bucket rows: migration 0005 adds
    // INCLUDE (session_id, human_message_count, last_activity_at), and migration 0006 platform,
    // which drizzle's builder cannot say.
    index('session_statistics_buckets_experiment_size_start_idx').on(
      t.experimentId,
      t.bucketSize,
      t.bucketStart,
    ),
    check('session_statistics_buckets_size_check', sql`${t.bucketSize} in ('hour', 'day', 'month')`),
    check(
      'session_statistics_buckets_aligned_check',
      sql`${t.bucketStart} = date_trunc(${t.bucketSize}, ${t.bucketStart}, 'UTC') and ${t.bucketEnd} = ((${t.bucketStart} at time zone 'UTC') + ('1 ' || ${t.bucketSize})::interval) at time zone 'UTC'`,
    ),
  ],
);

/** One row per refresh run, for `statcache status` ("last refresh") and operators. */
export const refreshRuns = pgTable(
  'statcache_refresh_runs',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mode: text('mode').notNull(),
    experimentIds: bigint('experiment_ids', { mode: 'number' }).array(),
    startedAt: tsz('started_at').notNull(),
    finishedAt: tsz('finished_at').notNull().defaultNow(),
    experiments: integer('experiments').notNull(),
    experimentBuckets: integer('experiment_buckets').notNull(),
    sessionBuckets: integer('session_buckets').notNull(),
    versionsUpdated: integer('versions_updated').notNull(),
  },
  // status reads the newest run.
  (t) => [index('statcache_refresh_runs_finished_at_idx').on(t.finishedAt)],
);

/**
 * When the cache was last brought up to date: the start of the newest incremental refresh (or
 * unscoped full rebuild) that finished, empty runs included. Every change captured before that
 * instant was applied then, except those still pending, which each read counts (its freshness).
 * One row.
 */
export const refreshState = pgTable('statcache_refresh_state', {
  id: smallint('id').primaryKey().default(1),
  refreshedAt: tsz('refreshed_at').notNull(),
});

/**
 * Each participant's first counted session per experiment: what new_participant_count counts.
 * Kept so that the incremental refresh knows the hour a participant used to count in when their
 * first session is deleted, moved or excluded, and can recount both hours.
 */
export const experimentParticipants = pgTable(
  'statcache_experiment_participants',
  {
    experimentId: bigint('experiment_id', { mode: 'number' }).notNull(),
    participantId: bigint('participant_id', { mode: 'number' }).notNull(),
    firstSessionAt: tsz('first_session_at').notNull(),
  },
  (t) => [
    primaryKey({
      name: 'statcache_experiment_participants_pkey',
      columns: [t.experimentId, t.participantId],
    }),
    // A bucket's new_participant_count counts firsts in [bucket_start, bucket_end) of one experiment.
    index('statcache_experiment_participants_first_idx').on(t.experimentId, t.firstSessionAt),
  ],
);

/**
 * Change kinds the capture triggers (src/install/capture-triggers-sql.ts) and the refresh record, and the only values the
 * kind column accepts (its CHECK is built from this list); what each means: docs/design.md, "The keys".
 */
export const CHANGE_KINDS = [
  'message_hour',
  'chat_versions',
  'experiment_hour',
  'participant',
  'session',
  'experiment',
  'all',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * Dirty keys written by the capture triggers in the writer's transaction and consumed by the
 * incremental refresh (claimed FOR UPDATE SKIP LOCKED, deleted in the refresh's transaction).
 * `xid` lets a full refresh drop exactly the changes committed before it started.
 */
export const changes = pgTable(
  'statcache_changes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    kind: text('kind').$type<ChangeKind>().notNull(),
    chatId: bigint('chat_id', { mode: 'number' }),
    experimentId: bigint('experiment_id', { mode: 'number' }),
    sessionId: bigint('session_id', { mode: 'number' }),
    participantId: bigint('participant_id', { mode: 'number' }),
    at: tsz('at'),
    /**
     * A `chat_versions` key written by a new tag link: the tag and one message of the chat it now
     * tags, so the refresh can add the tag's name to the cached versions after checking that link
     * (docs/design.md, "The keys"); NULL on every other key, which asks for a recount from the messages.
     */
    messageId: bigint('message_id', { mode: 'number' }),
    tagId: bigint('tag_id', { mode: 'number' }),
    xid: text('xid').notNull().default(sql`(pg_current_xact_id())::text`),
    capturedAt: tsz('captured_at').notNull().defaultNow(),
  },
  (t) => [
    check(
      'statcache_changes_kind_check',
      sql`${t.kind} in (${sql.raw(CHANGE_KINDS.map((kind) => `'${kind}'`).join(', '))})`,
    ),
    // The experiment recount looks up which sessions still have a session change pending (their
    // buckets may be filed under an experiment or platform they have left).
    index('statcache_changes_pending_session_idx').on(t.sessionId).where(sql`${t.kind} = 'session'`),
  ],
);

/**
 * Each experiment's totals: the sums of its buckets of every size (and their latest activity), kept
 * in the same transaction as every write that changes them, so a dashboard page of all experiments
 * reads one row per experiment instead of summing every bucket. An experiment without buckets has
 * no row (reads as zeros). `verify` recounts these from source like the buckets.
 */
export const experimentTotals = pgTable('statcache_experiment_totals', {
  experimentId: bigint('experiment_id', { mode: 'number' }).primaryKey(),
  sessionCount: bigint('session_count', { mode: 'number' }).notNull().default(0),
  participantCount: bigint('participant_count', { mode: 'number' }).notNull().default(0),
  humanMessageCount: bigint('human_message_count', { mode: 'number' }).notNull().default(0),
  lastActivityAt: tsz('last_activity_at'),
  updatedAt: tsz('updated_at').notNull().defaultNow(),
});

/**
 * Every chat's versions, computed once by an unscoped full rebuild for its batches to read, on
 * whichever connection each runs (a temp table would be one connection's). Chats without versions
 * have no row. UNLOGGED (added by hand to the migration): scratch data, no WAL, emptied by a crash;
 * one rebuild uses it at a time (its advisory lock) and empties it when done.
 */
export const rebuildVersions = pgTable('statcache_rebuild_versions', {
  chatId: bigint('chat_id', { mode: 'number' }).primaryKey(),
  versions: text('versions').array().notNull(),
});
