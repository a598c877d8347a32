-- Change capture: statement-level AFTER triggers with transition tables record dirty keys in
-- statcache_changes inside the writer's own transaction, so a change becomes visible to the refresh
-- exactly when the data it describes commits. Keys, not deltas: the refresh recomputes from source.
-- See docs/design.md for what each kind means and why each trigger exists.

-- Messages. Hot path (INSERT): one row per distinct (chat, hour) of human messages, no joins; the
-- refresh resolves the chat to its session when it claims the row (a new message no bucket counts
-- yet needs no recount if its session is gone by then). Deleted and updated messages may already
-- be counted, so their rows carry the session and experiment resolved now: if a chat delete
-- cascades to the session, the row still names the experiment hour to recount.
-- Deletes and updates also mark the chat's versions, since the cascade removes tag links after
-- the message is gone and the link trigger can no longer find the chat.
CREATE OR REPLACE FUNCTION statcache_record_message_sides(old_sides chat_messages[], new_sides chat_messages[])
RETURNS void LANGUAGE sql AS $$
  INSERT INTO statcache_changes (kind, chat_id, experiment_id, session_id, at)
  SELECT DISTINCT 'message_hour', s.chat_id, es.experiment_id, es.id, date_trunc('hour', s.created_at, 'UTC')
  FROM (SELECT * FROM unnest(old_sides) UNION ALL SELECT * FROM unnest(new_sides)) s
  LEFT JOIN experiment_sessions es ON es.chat_id = s.chat_id
  WHERE s.message_type = 'human'
  UNION
  SELECT DISTINCT 'chat_versions', s.chat_id, NULL::bigint, NULL::bigint, NULL::timestamptz
  FROM (SELECT * FROM unnest(old_sides) UNION ALL SELECT * FROM unnest(new_sides)) s
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION statcache_capture_chat_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO statcache_changes (kind, chat_id, at)
    SELECT DISTINCT 'message_hour', n.chat_id, date_trunc('hour', n.created_at, 'UTC')
    FROM new_rows n WHERE n.message_type = 'human';
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_message_sides((SELECT array_agg(o::chat_messages) FROM old_rows o), '{}'::chat_messages[]);
  ELSE
    -- Only rows whose chat, type or time changed (an edit of content changes no statistic).
    -- EXECUTE plans with the transition tables' real sizes: a plan cached from a one-row update
    -- (a nested loop) would make a later bulk update quadratic.
    EXECUTE $q$
      SELECT statcache_record_message_sides(
        (SELECT array_agg(o::chat_messages) FROM old_rows o WHERE o.id IN (SELECT id FROM (
          SELECT id, chat_id, message_type, created_at FROM old_rows
          EXCEPT SELECT id, chat_id, message_type, created_at FROM new_rows) changed)),
        (SELECT array_agg(n::chat_messages) FROM new_rows n WHERE n.id IN (SELECT id FROM (
          SELECT id, chat_id, message_type, created_at FROM new_rows
          EXCEPT SELECT id, chat_id, message_type, created_at FROM old_rows) changed)))$q$;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Sessions. Each changed side (a deleted row, an inserted row, or both sides of an update to a
-- column that matters) marks: its experiment's hour of creation, the hours of its chat's human
-- messages (from the messages, and from the session's buckets), its (experiment, participant)
-- pair, the session's own buckets, and its chat's versions.
CREATE OR REPLACE FUNCTION statcache_record_session_sides(old_sides experiment_sessions[], new_sides experiment_sessions[])
RETURNS void LANGUAGE sql AS $$
  WITH sides AS (
    SELECT s.id, s.experiment_id, s.participant_id, s.chat_id, s.created_at
    FROM (SELECT * FROM unnest(old_sides) UNION ALL SELECT * FROM unnest(new_sides)) s
  )
  INSERT INTO statcache_changes (kind, chat_id, experiment_id, session_id, participant_id, at)
  SELECT 'experiment_hour', NULL::bigint, experiment_id, NULL::bigint, NULL::bigint, date_trunc('hour', created_at, 'UTC') FROM sides
  UNION
  SELECT 'experiment_hour', NULL, s.experiment_id, NULL, NULL, date_trunc('hour', m.created_at, 'UTC')
  FROM sides s JOIN chat_messages m ON m.chat_id = s.chat_id WHERE m.message_type = 'human'
  UNION
  -- When a chat delete cascades, its messages may be gone before this trigger runs (and the
  -- message trigger may run after the session is gone): the session's stored buckets still say
  -- where its refreshed messages counted. Unrefreshed ones carry their experiment in their own row.
  SELECT 'experiment_hour', NULL, s.experiment_id, NULL, NULL, b.bucket_start
  FROM sides s JOIN session_statistics_buckets b ON b.session_id = s.id
  UNION
  SELECT 'participant', NULL, experiment_id, NULL, participant_id, NULL FROM sides WHERE participant_id IS NOT NULL
  UNION
  SELECT 'session', NULL, experiment_id, id, NULL, NULL FROM sides
  UNION
  SELECT 'chat_versions', chat_id, NULL, NULL, NULL, NULL FROM sides
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION statcache_capture_experiment_sessions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statcache_record_session_sides('{}'::experiment_sessions[], (SELECT array_agg(n::experiment_sessions) FROM new_rows n));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_session_sides((SELECT array_agg(o::experiment_sessions) FROM old_rows o), '{}'::experiment_sessions[]);
  ELSE
    -- Updates that only touch cached_experiment_versions (the refresh's own) or other columns are
    -- ignored. EXECUTE: see statcache_capture_chat_messages.
    EXECUTE $q$
      SELECT statcache_record_session_sides(
        (SELECT array_agg(o::experiment_sessions) FROM old_rows o WHERE o.id IN (SELECT id FROM (
          SELECT id, team_id, experiment_id, participant_id, chat_id, platform, created_at FROM old_rows
          EXCEPT SELECT id, team_id, experiment_id, participant_id, chat_id, platform, created_at FROM new_rows) changed)),
        (SELECT array_agg(n::experiment_sessions) FROM new_rows n WHERE n.id IN (SELECT id FROM (
          SELECT id, team_id, experiment_id, participant_id, chat_id, platform, created_at FROM new_rows
          EXCEPT SELECT id, team_id, experiment_id, participant_id, chat_id, platform, created_at FROM old_rows) changed)))$q$;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Tag links: the versions of the chat of every linked or unlinked message. A link removed by a
-- cascade from tags no longer finds its tag, so a missing tag counts as a version tag.
CREATE OR REPLACE FUNCTION statcache_record_tag_links(links chat_message_tags[])
RETURNS void LANGUAGE sql AS $$
  INSERT INTO statcache_changes (kind, chat_id)
  SELECT DISTINCT 'chat_versions', m.chat_id
  FROM unnest(links) l
  JOIN chat_messages m ON m.id = l.message_id
  LEFT JOIN tags t ON t.id = l.tag_id
  WHERE t.id IS NULL OR t.category = 'experiment_version'
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION statcache_capture_chat_message_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statcache_record_tag_links((SELECT array_agg(n::chat_message_tags) FROM new_rows n));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_tag_links((SELECT array_agg(o::chat_message_tags) FROM old_rows o));
  ELSE
    PERFORM statcache_record_tag_links((SELECT array_agg(o::chat_message_tags) FROM old_rows o) || (SELECT array_agg(n::chat_message_tags) FROM new_rows n));
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Tags: a rename or a category change alters the versions of every chat carrying the tag.
CREATE OR REPLACE FUNCTION statcache_capture_tags() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- EXECUTE: see statcache_capture_chat_messages.
  EXECUTE $q$
    INSERT INTO statcache_changes (kind, chat_id)
    SELECT DISTINCT 'chat_versions', m.chat_id
    FROM (SELECT id FROM (SELECT id, name, category FROM old_rows EXCEPT SELECT id, name, category FROM new_rows) x
          WHERE x.id IN (SELECT id FROM old_rows WHERE category = 'experiment_version'
                         UNION SELECT id FROM new_rows WHERE category = 'experiment_version')) t
    JOIN chat_message_tags l ON l.tag_id = t.id
    JOIN chat_messages m ON m.id = l.message_id$q$;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Experiments: deleted, or moved to another team (bucket team_id), rebuild the whole experiment.
CREATE OR REPLACE FUNCTION statcache_capture_experiments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO statcache_changes (kind, experiment_id) SELECT 'experiment', o.id FROM old_rows o;
  ELSE
    -- EXECUTE: see statcache_capture_chat_messages.
    EXECUTE $q$
      INSERT INTO statcache_changes (kind, experiment_id)
      SELECT DISTINCT 'experiment', id FROM (SELECT id, team_id FROM old_rows EXCEPT SELECT id, team_id FROM new_rows) changed$q$;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- TRUNCATE has no transition table: ask for a full rebuild.
CREATE OR REPLACE FUNCTION statcache_capture_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO statcache_changes (kind) VALUES ('all');
  RETURN NULL;
END $$;
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_insert ON chat_messages;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_insert AFTER INSERT ON chat_messages
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_messages();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_update ON chat_messages;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_update AFTER UPDATE ON chat_messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_messages();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_delete ON chat_messages;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_delete AFTER DELETE ON chat_messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_messages();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_insert ON experiment_sessions;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_insert AFTER INSERT ON experiment_sessions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_experiment_sessions();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_update ON experiment_sessions;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_update AFTER UPDATE ON experiment_sessions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_experiment_sessions();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_delete ON experiment_sessions;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_delete AFTER DELETE ON experiment_sessions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_experiment_sessions();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_insert ON chat_message_tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_insert AFTER INSERT ON chat_message_tags
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_message_tags();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_update ON chat_message_tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_update AFTER UPDATE ON chat_message_tags
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_message_tags();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_delete ON chat_message_tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_delete AFTER DELETE ON chat_message_tags
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_chat_message_tags();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_update ON tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_update AFTER UPDATE ON tags
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_tags();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_update ON experiments;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_update AFTER UPDATE ON experiments
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_experiments();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_delete ON experiments;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_delete AFTER DELETE ON experiments
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_experiments();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_truncate ON chat_messages;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_truncate AFTER TRUNCATE ON chat_messages FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_truncate();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_truncate ON experiment_sessions;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_truncate AFTER TRUNCATE ON experiment_sessions FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_truncate();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_truncate ON chat_message_tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_truncate AFTER TRUNCATE ON chat_message_tags FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_truncate();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_truncate ON tags;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_truncate AFTER TRUNCATE ON tags FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_truncate();
--> statement-breakpoint
DROP TRIGGER IF EXISTS statcache_capture_truncate ON experiments;
--> statement-breakpoint
CREATE TRIGGER statcache_capture_truncate AFTER TRUNCATE ON experiments FOR EACH STATEMENT EXECUTE FUNCTION statcache_capture_truncate();
--> statement-breakpoint
-- Refreshes serialize per experiment on transaction-level advisory locks, taken in ascending order
-- so two refreshes never deadlock. Experiments share 1024 lock slots (id % 1024) to bound the locks
-- one big batch holds.
CREATE OR REPLACE FUNCTION statcache_lock_experiments(experiment_ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  slot int;
BEGIN
  FOR slot IN SELECT DISTINCT (id % 1024)::int FROM unnest(experiment_ids) AS id WHERE id IS NOT NULL ORDER BY 1 LOOP
    PERFORM pg_advisory_xact_lock(1937006964, slot);
  END LOOP;
END $$;
