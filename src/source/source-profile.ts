/**
 * A source profile: where a platform keeps each relation statcache reads (the physical table and
 * column names), plus the few structural options a real schema needs. Profiles are data; every
 * statement reads its names from one, as quoted identifiers. The built-in ones are in
 * builtin-profiles.ts; a JSON file with the same shape describes any other platform (README,
 * "Source profiles").
 */

/** What a column must hold for statcache to read it. */
export type ColumnKind = 'id' | 'text' | 'timestamptz' | 'text[]';

/**
 * The relations and columns statcache reads, with the kind each column must have. Every key here is
 * required in a profile's relation (as a column name) unless listed in OPTIONAL_COLUMNS.
 */
export const SOURCE_RELATIONS = {
  teams: { id: 'id' },
  experiments: { id: 'id', teamId: 'id', name: 'text', versionOf: 'id' },
  participants: { id: 'id', identifier: 'text' },
  chats: { id: 'id', teamId: 'id' },
  sessions: {
    id: 'id',
    teamId: 'id',
    experimentId: 'id',
    participantId: 'id',
    chatId: 'id',
    platform: 'text',
    createdAt: 'timestamptz',
    versionsCache: 'text[]',
  },
  messages: { id: 'id', chatId: 'id', type: 'text', createdAt: 'timestamptz' },
  tags: { id: 'id', name: 'text', category: 'text' },
  tagLinks: { tagId: 'id', messageId: 'id' },
} as const satisfies Record<string, Record<string, ColumnKind>>;

export type RelationName = keyof typeof SOURCE_RELATIONS;
export type ColumnKey<R extends RelationName> = keyof (typeof SOURCE_RELATIONS)[R] & string;

/**
 * Columns a profile may leave out: `experiments.versionOf` (only platforms that keep published
 * versions as rows of the experiments table have it).
 */
export const OPTIONAL_COLUMNS = {
  experiments: ['versionOf'],
} as const satisfies { readonly [R in RelationName]?: readonly ColumnKey<R>[] };
type OptionalColumn<R extends RelationName> = R extends keyof typeof OPTIONAL_COLUMNS
  ? (typeof OPTIONAL_COLUMNS)[R][number]
  : never;

/**
 * Columns statcache adds to the platform's table itself (by `migrate`), so a database that was
 * never migrated lacks them without being wrong.
 */
export const OWNED_COLUMNS: { readonly [R in RelationName]?: readonly ColumnKey<R>[] } = {
  sessions: ['versionsCache'],
};

/** One relation: its table and, for each column key, the physical column. */
export type RelationMapping<R extends RelationName> = { table: string } & {
  [C in ColumnKey<R>]: C extends OptionalColumn<R> ? string | undefined : string;
};

/**
 * Tag links kept in a generic link table (Django's contenttypes): only rows whose content-type
 * column names the row of `table` matching `match` (column → value, e.g. app_label 'chat', model
 * 'chatmessage') link a tag to a message. The content type is looked up by those values, never by
 * a fixed id, since ids differ between installs.
 */
export interface ContentTypeFilter {
  /** The link table's column holding the content type id. */
  column: string;
  /** The content types table. */
  table: string;
  /** Its id column. */
  id: string;
  /** Column → value of the one row that means "a chat message". */
  match: Readonly<Record<string, string>>;
}

export interface SourceProfile {
  /** Shown by `statcache source` and in messages ("statcache", "ocs", or the file's name). */
  name: string;
  /** Where the profile came from: `builtin` or the JSON file's path. */
  origin: string;
  /** The schema every table is in. @defaultValue 'public' */
  schema: string;
  teams: RelationMapping<'teams'>;
  experiments: RelationMapping<'experiments'>;
  participants: RelationMapping<'participants'>;
  chats: RelationMapping<'chats'>;
  sessions: RelationMapping<'sessions'> & {
    /** Whether the platform column may be NULL (a NULL platform is never excluded). */
    platformNullable: boolean;
  };
  messages: RelationMapping<'messages'>;
  tags: RelationMapping<'tags'>;
  tagLinks: RelationMapping<'tagLinks'> & {
    /** Present when the link table is generic (links to other kinds of rows too). */
    contentType?: ContentTypeFilter;
  };
}

/** The relation keys in the order profiles are printed and checked. */
export const RELATION_NAMES = Object.keys(SOURCE_RELATIONS) as RelationName[];
