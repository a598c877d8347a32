/**
 * The indexes statcache's statements rely on in the platform's tables, by leading columns (an
 * existing valid, non-partial btree index whose first key columns are these, in order, serves).
 * `statcache source` reports each as found (with its name) or missing; `migrate` creates the
 * missing ones.
 */
import type { ColumnKey, RelationName, SourceProfile } from './source-profile.js';

export interface RequiredIndex {
  relation: RelationName;
  /** Physical column names, leading columns of the index in order. */
  columns: string[];
  /** Why statcache needs it. */
  reason: string;
}

function on<R extends RelationName>(
  profile: SourceProfile,
  relation: R,
  keys: ColumnKey<R>[],
  reason: string,
): RequiredIndex {
  const mapping = profile[relation] as unknown as Record<string, string>;
  return { relation, columns: keys.map((key) => mapping[key] as string), reason };
}

/** The indexes `profile` needs, in check order. */
export function requiredIndexes(profile: SourceProfile): RequiredIndex[] {
  const links = profile.tagLinks;
  return [
    on(
      profile,
      'messages',
      ['chatId', 'type', 'createdAt'],
      "every recount reads a session's human messages of a time range",
    ),
    on(
      profile,
      'sessions',
      ['experimentId', 'createdAt'],
      "rebuilds and recounts read one experiment's sessions by time",
    ),
    on(profile, 'sessions', ['chatId'], 'a new message is resolved to its session by chat'),
    on(
      profile,
      'sessions',
      ['participantId'],
      "a participant's first session is recomputed from their sessions",
    ),
    on(profile, 'experiments', ['teamId'], "the experiments page lists one team's experiments"),
    links.contentType
      ? {
          relation: 'tagLinks',
          columns: [links.contentType.column, links.messageId],
          reason: "the versions cache reads a message's tag links",
        }
      : on(profile, 'tagLinks', ['messageId'], "the versions cache reads a message's tag links"),
    on(profile, 'tagLinks', ['tagId'], 'a renamed tag is traced to the messages it tags'),
  ];
}
