/**
 * The column lists and ON CONFLICT clauses of every write to the bucket tables and the totals
 * table, spelled once. A recount *replaces* a stored row with what it counted from source; a merge
 * (compression) *adds* fine rows into a coarse one. Each fragment follows `insert into <table> as c`.
 */
import { sql } from 'drizzle-orm';

/** Insert column list of experiment_statistics_buckets, in the order every writer selects them. */
export const EXPERIMENT_BUCKET_COLUMNS = sql.raw(`(
  team_id, experiment_id, bucket_size, bucket_start, bucket_end,
  session_count, new_participant_count, human_message_count, last_activity_at, updated_at)`);

/** Insert column list of session_statistics_buckets. */
export const SESSION_BUCKET_COLUMNS = sql.raw(`(
  team_id, experiment_id, session_id, platform, bucket_size, bucket_start, bucket_end,
  human_message_count, last_activity_at, updated_at)`);

/** Insert column list of statcache_experiment_totals. */
export const EXPERIMENT_TOTALS_COLUMNS = sql.raw(`(
  experiment_id, session_count, participant_count, human_message_count, last_activity_at, updated_at)`);

/** A recounted experiment bucket replaces the stored one (its team may have changed too). */
export const REPLACE_EXPERIMENT_BUCKET = sql.raw(`
  on conflict (experiment_id, bucket_size, bucket_start) do update set
    team_id = excluded.team_id,
    session_count = excluded.session_count,
    new_participant_count = excluded.new_participant_count,
    human_message_count = excluded.human_message_count,
    last_activity_at = excluded.last_activity_at,
    updated_at = excluded.updated_at`);

/** A recounted session bucket replaces the stored one, refiled under the session's team, experiment and platform. */
export const REPLACE_SESSION_BUCKET = sql.raw(`
  on conflict (session_id, bucket_size, bucket_start) do update set
    team_id = excluded.team_id,
    experiment_id = excluded.experiment_id,
    platform = excluded.platform,
    human_message_count = excluded.human_message_count,
    last_activity_at = excluded.last_activity_at,
    updated_at = excluded.updated_at`);

/** Recounted totals replace the stored row. */
export const REPLACE_EXPERIMENT_TOTALS = sql.raw(`
  on conflict (experiment_id) do update set
    session_count = excluded.session_count,
    participant_count = excluded.participant_count,
    human_message_count = excluded.human_message_count,
    last_activity_at = excluded.last_activity_at,
    updated_at = excluded.updated_at`);

/** Merged fine experiment buckets add into the coarse bucket already there (`c`). */
export const ADD_TO_EXPERIMENT_BUCKET = sql.raw(`
  on conflict (experiment_id, bucket_size, bucket_start) do update set
    session_count = c.session_count + excluded.session_count,
    new_participant_count = c.new_participant_count + excluded.new_participant_count,
    human_message_count = c.human_message_count + excluded.human_message_count,
    last_activity_at = greatest(c.last_activity_at, excluded.last_activity_at),
    updated_at = excluded.updated_at`);

/** Merged fine session buckets add into the coarse bucket already there (`c`). */
export const ADD_TO_SESSION_BUCKET = sql.raw(`
  on conflict (session_id, bucket_size, bucket_start) do update set
    human_message_count = c.human_message_count + excluded.human_message_count,
    last_activity_at = greatest(c.last_activity_at, excluded.last_activity_at),
    updated_at = excluded.updated_at`);

/** A participant's recomputed first counted session replaces the stored one. */
export const REPLACE_PARTICIPANT_FIRST = sql.raw(
  'on conflict (experiment_id, participant_id) do update set first_session_at = excluded.first_session_at',
);
