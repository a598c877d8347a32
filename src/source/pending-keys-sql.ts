/**
 * The change rows not applied yet, each with the experiment and session it is about: as its key
 * records them, else (a new message's key names only its chat) by the chat's session as it is now.
 * An `experiment` key names the row that changed; every other key's experiment is the experiment it
 * counts under (countedExperiment). Read by verify (lag vs drift) and by the freshness every read
 * reports. Columns: kind, chat_id, session_id, participant_id, at, captured_at, experiment_id,
 * resolved_session.
 */
import { type SQL, sql } from 'drizzle-orm';
import { countedExperiment, relationSql } from './relation-sql.js';
import type { SourceProfile } from './source-profile.js';

export function pendingKeysSql(source: SourceProfile): SQL {
  const K = relationSql(source, 'sessions', 'ks');
  return sql`
      select c.kind, c.chat_id, c.session_id, c.participant_id, c.at, c.captured_at,
             case when c.kind = 'experiment' then c.experiment_id
                  else ${countedExperiment(source, sql`coalesce(c.experiment_id, ks.experiment_id)`)} end as experiment_id,
             coalesce(c.session_id, ks.id) as resolved_session
      from statcache_changes c
      -- LIMIT keeps this an index probe per key (a chat has one session): without it the planner
      -- may hash every session of the platform to resolve a few keys.
      left join lateral (select ${K.id} as id, ${K.experimentId} as experiment_id from ${K.from}
                         where c.session_id is null and c.chat_id is not null and ${K.chatId} = c.chat_id
                         limit 1) ks on true`;
}
