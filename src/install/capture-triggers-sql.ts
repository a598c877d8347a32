/**
 * The change-capture functions and triggers for a source profile, as DDL text (the profile's names
 * rendered by capture-names.ts). Statement-level AFTER triggers with
 * transition tables record dirty keys in statcache_changes inside the writer's own transaction, so
 * a change becomes visible to the refresh exactly when the data it describes commits. Keys, not
 * deltas: the refresh recomputes from source. What each kind means: docs/design.md, "The keys".
 */

import type { SourceProfile } from '../source/source-profile.js';
import { EXPERIMENT_VERSION_CATEGORY } from '../versions/version-tags-sql.js';
import { type CaptureNames, literal, captureNames as names } from './capture-names.js';

const VERSION = literal(EXPERIMENT_VERSION_CATEGORY);

/**
 * The capture functions run with their owner's rights (the installer's), with a fixed search_path:
 * a platform role that may write its own tables needs no privilege on statcache's change queue.
 */
const DEFINER = 'SECURITY DEFINER SET search_path = public, pg_temp';

/** The capture DDL: functions (no table locks), then each platform table's triggers. */
export interface CaptureDdl {
  /** CREATE OR REPLACE FUNCTION statements: they lock no table. */
  functions: string[];
  /** Per platform table (its quoted name), its CREATE OR REPLACE TRIGGER statements. */
  triggers: { table: string; statements: string[] }[];
}

/** Each statement is idempotent (CREATE OR REPLACE). */
export function captureDdl(profile: SourceProfile): CaptureDdl {
  const n = names(profile);
  const { m, s, l, t, e } = n;
  const functions = [
    // Messages. Hot path (INSERT): one row per distinct (chat, hour) of human messages, no joins; the
    // refresh resolves the chat to its session when it claims the row. Deleted and updated messages
    // may already be counted, so their rows carry the session and experiment resolved now: if the
    // session is deleted next, the row still names the experiment hour to recount. Deletes and
    // updates also mark the chat's versions (a message's tag links may outlive it).
    `CREATE OR REPLACE FUNCTION statcache_record_message_sides(old_sides ${n.messages}[], new_sides ${n.messages}[])
RETURNS void LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO statcache_changes (kind, chat_id, experiment_id, session_id, at)
  SELECT DISTINCT 'message_hour', x.${m.chatId}, es.${s.experimentId}, es.${s.id}, date_trunc('hour', x.${m.createdAt}, 'UTC')
  FROM (SELECT * FROM unnest(old_sides) UNION ALL SELECT * FROM unnest(new_sides)) x
  LEFT JOIN ${n.sessions} es ON es.${s.chatId} = x.${m.chatId}
  WHERE x.${m.type} = 'human'
  UNION
  SELECT DISTINCT 'chat_versions', x.${m.chatId}, NULL::bigint, NULL::bigint, NULL::timestamptz
  FROM (SELECT * FROM unnest(old_sides) UNION ALL SELECT * FROM unnest(new_sides)) x
$$`,
    `CREATE OR REPLACE FUNCTION statcache_capture_chat_messages() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO statcache_changes (kind, chat_id, at)
    SELECT DISTINCT 'message_hour', x.${m.chatId}, date_trunc('hour', x.${m.createdAt}, 'UTC')
    FROM new_rows x WHERE x.${m.type} = 'human';
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_message_sides((SELECT array_agg(o::${n.messages}) FROM old_rows o), '{}'::${n.messages}[]);
  ELSE
    -- Only rows whose chat, type or time changed (an edit of content changes no statistic).
    -- EXECUTE plans with the transition tables' real sizes: a plan cached from a one-row update
    -- (a nested loop) would make a later bulk update quadratic.
    EXECUTE $q$
      SELECT statcache_record_message_sides(
        (SELECT array_agg(o::${n.messages}) FROM old_rows o WHERE o.${m.id} IN (SELECT ${m.id} FROM (
          SELECT ${m.id}, ${m.chatId}, ${m.type}, ${m.createdAt} FROM old_rows
          EXCEPT SELECT ${m.id}, ${m.chatId}, ${m.type}, ${m.createdAt} FROM new_rows) changed)),
        (SELECT array_agg(x::${n.messages}) FROM new_rows x WHERE x.${m.id} IN (SELECT ${m.id} FROM (
          SELECT ${m.id}, ${m.chatId}, ${m.type}, ${m.createdAt} FROM new_rows
          EXCEPT SELECT ${m.id}, ${m.chatId}, ${m.type}, ${m.createdAt} FROM old_rows) changed)))$q$;
  END IF;
  RETURN NULL;
END $$`,
    // Sessions. Each changed side marks: its experiment's hour of creation, the hours of its chat's
    // human messages (from the messages, and from the session's buckets: a platform that deletes a
    // chat's messages before its session, or after, leaves one of the two), its (experiment,
    // participant) pair (a new side names the session, so the refresh can take its instant as the
    // pair's first if it is earlier, instead of reading the participant's sessions), the session's
    // own buckets, and its chat's versions; but a new side whose chat has no message yet and whose
    // cached versions are empty is already right, so a session created before its messages costs
    // no versions recount.
    `CREATE OR REPLACE FUNCTION statcache_record_session_sides(old_sides ${n.sessions}[], new_sides ${n.sessions}[])
RETURNS void LANGUAGE sql ${DEFINER} AS $$
  WITH sides AS (
    SELECT ${sideColumns(s)}, false AS is_new, NULL::int AS cached_versions FROM unnest(old_sides) x
    UNION ALL
    SELECT ${sideColumns(s)}, true, cardinality(x.${s.versionsCache}) FROM unnest(new_sides) x
  )
  INSERT INTO statcache_changes (kind, chat_id, experiment_id, session_id, participant_id, at)
  SELECT 'experiment_hour', NULL::bigint, experiment_id, NULL::bigint, NULL::bigint, date_trunc('hour', created_at, 'UTC') FROM sides
  UNION
  SELECT 'experiment_hour', NULL, sd.experiment_id, NULL, NULL, date_trunc('hour', mm.${m.createdAt}, 'UTC')
  FROM sides sd JOIN ${n.messages} mm ON mm.${m.chatId} = sd.chat_id WHERE mm.${m.type} = 'human'
  UNION
  SELECT 'experiment_hour', NULL, sd.experiment_id, NULL, NULL, b.bucket_start
  FROM sides sd JOIN session_statistics_buckets b ON b.session_id = sd.id
  UNION
  SELECT 'participant', NULL, experiment_id, CASE WHEN is_new THEN id END, participant_id, NULL FROM sides WHERE participant_id IS NOT NULL
  UNION
  SELECT 'session', NULL, experiment_id, id, NULL, NULL FROM sides
  UNION
  SELECT 'chat_versions', sd.chat_id, NULL, NULL, NULL, NULL FROM sides sd
  WHERE NOT sd.is_new OR sd.cached_versions IS DISTINCT FROM 0
     OR EXISTS (SELECT 1 FROM ${n.messages} mm WHERE mm.${m.chatId} = sd.chat_id)
$$`,
    `CREATE OR REPLACE FUNCTION statcache_capture_experiment_sessions() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statcache_record_session_sides('{}'::${n.sessions}[], (SELECT array_agg(x::${n.sessions}) FROM new_rows x));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_session_sides((SELECT array_agg(o::${n.sessions}) FROM old_rows o), '{}'::${n.sessions}[]);
  ELSE
    -- Updates that only touch the versions cache (the refresh's own) or other columns are ignored.
    -- EXECUTE: see statcache_capture_chat_messages.
    EXECUTE $q$
      SELECT statcache_record_session_sides(
        (SELECT array_agg(o::${n.sessions}) FROM old_rows o WHERE o.${s.id} IN (SELECT ${s.id} FROM (
          SELECT ${sessionColumns(s)} FROM old_rows
          EXCEPT SELECT ${sessionColumns(s)} FROM new_rows) changed)),
        (SELECT array_agg(x::${n.sessions}) FROM new_rows x WHERE x.${s.id} IN (SELECT ${s.id} FROM (
          SELECT ${sessionColumns(s)} FROM new_rows
          EXCEPT SELECT ${sessionColumns(s)} FROM old_rows) changed)))$q$;
  END IF;
  RETURN NULL;
END $$`,
    // Tag links: the versions of the chat of every linked or unlinked message (links to other kinds
    // of rows in a generic link table are not message tags). A link removed by a cascade from tags
    // no longer finds its tag, so a missing tag counts as a version tag.
    `CREATE OR REPLACE FUNCTION statcache_record_tag_links(links ${n.links}[])
RETURNS void LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO statcache_changes (kind, chat_id)
  SELECT DISTINCT 'chat_versions', mm.${m.chatId}
  FROM unnest(links) ln
  JOIN ${n.messages} mm ON mm.${m.id} = ln.${l.messageId}
  LEFT JOIN ${n.tags} tg ON tg.${t.id} = ln.${l.tagId}
  WHERE (tg.${t.id} IS NULL OR tg.${t.category} = ${VERSION})${n.linkIsMessage('ln')}
$$`,
    // New links to version tags: one key per (chat, tag) naming one linked message as its witness, so
    // the refresh adds the tag's name to the cached versions once it has checked that link, instead
    // of recounting the chat from its messages. A link to a tag not there (yet: a deferred foreign
    // key, as Django's, lets a transaction write the link first) asks for the recount, as any other
    // change of links does.
    `CREATE OR REPLACE FUNCTION statcache_record_added_tag_links(links ${n.links}[])
RETURNS void LANGUAGE sql ${DEFINER} AS $$
  INSERT INTO statcache_changes (kind, chat_id, message_id, tag_id)
  SELECT DISTINCT ON (mm.${m.chatId}, ln.${l.tagId}) 'chat_versions', mm.${m.chatId},
         CASE WHEN tg.${t.id} IS NOT NULL THEN mm.${m.id} END, tg.${t.id}
  FROM unnest(links) ln
  JOIN ${n.messages} mm ON mm.${m.id} = ln.${l.messageId}
  LEFT JOIN ${n.tags} tg ON tg.${t.id} = ln.${l.tagId}
  WHERE (tg.${t.id} IS NULL OR tg.${t.category} = ${VERSION})${n.linkIsMessage('ln')}
$$`,
    `CREATE OR REPLACE FUNCTION statcache_capture_chat_message_tags() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM statcache_record_added_tag_links((SELECT array_agg(x::${n.links}) FROM new_rows x));
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM statcache_record_tag_links((SELECT array_agg(o::${n.links}) FROM old_rows o));
  ELSE
    PERFORM statcache_record_tag_links((SELECT array_agg(o::${n.links}) FROM old_rows o) || (SELECT array_agg(x::${n.links}) FROM new_rows x));
  END IF;
  RETURN NULL;
END $$`,
    // Tags: a rename or a category change alters the versions of every chat carrying the tag.
    `CREATE OR REPLACE FUNCTION statcache_capture_tags() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  -- EXECUTE: see statcache_capture_chat_messages.
  EXECUTE $q$
    INSERT INTO statcache_changes (kind, chat_id)
    SELECT DISTINCT 'chat_versions', mm.${m.chatId}
    FROM (SELECT ${t.id} AS id FROM (SELECT ${t.id}, ${t.name}, ${t.category} FROM old_rows
                    EXCEPT SELECT ${t.id}, ${t.name}, ${t.category} FROM new_rows) x
          WHERE x.${t.id} IN (SELECT ${t.id} FROM old_rows WHERE ${t.category} = ${VERSION}
                              UNION SELECT ${t.id} FROM new_rows WHERE ${t.category} = ${VERSION})) tg
    JOIN ${n.links} ln ON ln.${l.tagId} = tg.id${n.linkIsMessage('ln')}
    JOIN ${n.messages} mm ON mm.${m.id} = ln.${l.messageId}$q$;
  RETURN NULL;
END $$`,
    // Experiments: deleted, moved to another team (bucket team_id), or made a version of another
    // (or no longer one): rebuild the whole experiment.
    `CREATE OR REPLACE FUNCTION statcache_capture_experiments() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO statcache_changes (kind, experiment_id) SELECT 'experiment', o.${e.id} FROM old_rows o;
  ELSE
    -- EXECUTE: see statcache_capture_chat_messages.
    EXECUTE $q$
      INSERT INTO statcache_changes (kind, experiment_id)
      ${experimentKeys(e)}$q$;
  END IF;
  RETURN NULL;
END $$`,
    // TRUNCATE has no transition table: ask for a full rebuild.
    `CREATE OR REPLACE FUNCTION statcache_capture_truncate() RETURNS trigger LANGUAGE plpgsql ${DEFINER} AS $$
BEGIN
  INSERT INTO statcache_changes (kind) VALUES ('all');
  RETURN NULL;
END $$`,
  ];
  const triggers: [string, string, 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE'][] = [
    [n.messages, 'statcache_capture_chat_messages', 'INSERT'],
    [n.messages, 'statcache_capture_chat_messages', 'UPDATE'],
    [n.messages, 'statcache_capture_chat_messages', 'DELETE'],
    [n.sessions, 'statcache_capture_experiment_sessions', 'INSERT'],
    [n.sessions, 'statcache_capture_experiment_sessions', 'UPDATE'],
    [n.sessions, 'statcache_capture_experiment_sessions', 'DELETE'],
    [n.links, 'statcache_capture_chat_message_tags', 'INSERT'],
    [n.links, 'statcache_capture_chat_message_tags', 'UPDATE'],
    [n.links, 'statcache_capture_chat_message_tags', 'DELETE'],
    [n.tags, 'statcache_capture_tags', 'UPDATE'],
    [n.experiments, 'statcache_capture_experiments', 'UPDATE'],
    [n.experiments, 'statcache_capture_experiments', 'DELETE'],
    ...[n.messages, n.sessions, n.links, n.tags, n.experiments].map(
      (table) => [table, 'statcache_capture_truncate', 'TRUNCATE'] as [string, string, 'TRUNCATE'],
    ),
  ];
  const byTable = new Map<string, string[]>();
  for (const [table, fn, event] of triggers)
    byTable.set(table, [...(byTable.get(table) ?? []), triggerSql(table, fn, event)]);
  return { functions, triggers: [...byTable].map(([table, statements]) => ({ table, statements })) };
}

/** A session side's columns as statcache_record_session_sides names them (`x` is the side). */
function sideColumns(s: CaptureNames['s']): string {
  return `x.${s.id} AS id, x.${s.experimentId} AS experiment_id, x.${s.participantId} AS participant_id,
           x.${s.chatId} AS chat_id, x.${s.createdAt} AS created_at`;
}

/** The session columns a statistic depends on (an update of any other changes nothing). */
function sessionColumns(s: CaptureNames['s']): string {
  return [s.id, s.teamId, s.experimentId, s.participantId, s.chatId, s.platform, s.createdAt].join(', ');
}

/** The experiment columns a statistic depends on. */
function experimentColumns(e: CaptureNames['e']): string {
  return [e.id, e.teamId, ...(e.versionOf ? [e.versionOf] : [])].join(', ');
}

/**
 * The experiments an update of experiment rows asks to rebuild: each changed row, and, where rows
 * can be published versions of another (versionOf), the experiment it was and is a version of
 * (its sessions count there).
 */
function experimentKeys(e: CaptureNames['e']): string {
  const columns = experimentColumns(e);
  if (!e.versionOf)
    return `SELECT DISTINCT 'experiment', ${e.id} FROM (SELECT ${columns} FROM old_rows EXCEPT SELECT ${columns} FROM new_rows) changed`;
  return `SELECT DISTINCT 'experiment', k.id FROM (
        SELECT ${e.id} AS id, ${e.versionOf} AS version_of FROM (SELECT ${columns} FROM old_rows EXCEPT SELECT ${columns} FROM new_rows) o
        UNION ALL
        SELECT ${e.id}, ${e.versionOf} FROM (SELECT ${columns} FROM new_rows EXCEPT SELECT ${columns} FROM old_rows) n
      ) changed
      CROSS JOIN LATERAL unnest(ARRAY[changed.id, changed.version_of]) AS k(id)
      WHERE k.id IS NOT NULL`;
}

/**
 * One statement-level trigger, named `statcache_capture_<event>`: CREATE OR REPLACE (PostgreSQL 14+),
 * which takes SHARE ROW EXCLUSIVE on the table, where DROP TRIGGER would take ACCESS EXCLUSIVE.
 */
function triggerSql(table: string, fn: string, event: 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE'): string {
  const name = `statcache_capture_${event.toLowerCase()}`;
  const referencing =
    event === 'INSERT'
      ? ' REFERENCING NEW TABLE AS new_rows'
      : event === 'UPDATE'
        ? ' REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
        : event === 'DELETE'
          ? ' REFERENCING OLD TABLE AS old_rows'
          : '';
  return `CREATE OR REPLACE TRIGGER ${name} AFTER ${event} ON ${table}${referencing} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`;
}
