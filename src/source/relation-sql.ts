/**
 * A profile's relations as SQL fragments, so statements read like SQL with the platform's names put
 * in: `from ${S.from} join ${M.from} on ${M.chatId} = ${S.chatId}`. Every name is a quoted
 * identifier (quoted.ts); nothing from a profile file reaches SQL any other way.
 */
import { type SQL, sql } from 'drizzle-orm';
import { quoted } from './quoted.js';
import {
  type ColumnKey,
  type ContentTypeFilter,
  type RelationName,
  SOURCE_RELATIONS,
  type SourceProfile,
} from './source-profile.js';

/** One relation under an alias: `from` ("schema"."table" alias), `table` (unaliased), one fragment per column. */
export type RelationSql<R extends RelationName> = {
  /** `"schema"."table" alias`, for FROM and JOIN. */
  readonly from: SQL;
  /** `"schema"."table"`, for INSERT, UPDATE, DELETE and triggers. */
  readonly table: SQL;
  /** The alias, for columns outside the profile's keys (a content-type column). */
  readonly alias: string;
} & { readonly [C in ColumnKey<R>]: SQL };

/**
 * `relation` of `profile` under `alias`: each column key gives `alias."column"`. An optional column
 * the profile leaves out (experiments.versionOf) reads as a typed NULL, so predicates on it keep
 * their meaning (`versionOf is null` holds for every row).
 */
export function relationSql<R extends RelationName>(
  profile: SourceProfile,
  relation: R,
  alias: string,
): RelationSql<R> {
  const mapping = profile[relation] as unknown as Record<string, string | undefined>;
  const table = quoted(profile.schema, mapping.table as string);
  const out: Record<string, SQL | string> = { from: sql`${table} ${sql.raw(alias)}`, table, alias };
  for (const key of Object.keys(SOURCE_RELATIONS[relation])) {
    const column = mapping[key];
    out[key] = column === undefined ? sql`null::bigint` : sql`${sql.raw(alias)}.${quoted(column)}`;
  }
  return out as unknown as RelationSql<R>;
}

/** Whether experiment row `e` is an experiment of its own (not a published version of one). */
export function isExperimentRow(e: RelationSql<'experiments'>): SQL {
  return sql`${e.versionOf} is null`;
}

/**
 * Whether a session on `platform` counts in experiment buckets: its platform is not excluded. NULL
 * platforms count (as `IS DISTINCT FROM` would say), in every profile.
 */
export function platformCounted(platform: SQL, excluded: SQL): SQL {
  return sql`not coalesce(${platform} = any(${excluded}), false)`;
}

/**
 * The join condition of tag-link row `l` to message id `messageId`: the link's message column, and
 * for a generic link table its content type (looked up by its match values, bound as parameters).
 */
export function linksMessage(profile: SourceProfile, l: RelationSql<'tagLinks'>, messageId: SQL): SQL {
  const byMessage = sql`${l.messageId} = ${messageId}`;
  const ct = profile.tagLinks.contentType;
  if (!ct) return byMessage;
  return sql`${byMessage} and ${sql.raw(l.alias)}.${quoted(ct.column)} = ${contentTypeId(profile, ct)}`;
}

/** The content-type id of a chat message, as a scalar subquery (an index probe on its unique key). */
function contentTypeId(profile: SourceProfile, ct: ContentTypeFilter): SQL {
  const conditions = Object.entries(ct.match).map(([column, value]) => sql`${quoted(column)} = ${value}`);
  return sql`(select ${quoted(ct.id)} from ${quoted(profile.schema, ct.table)} where ${sql.join(conditions, sql` and `)})`;
}

/**
 * The experiment a session counts under, given the experiment id its row carries: that experiment,
 * or for a published-version row (experiments.versionOf set) the experiment it is a version of.
 * Without versionOf in the profile this is the id itself (no extra work).
 */
export function countedExperiment(profile: SourceProfile, experimentId: SQL): SQL {
  if (profile.experiments.versionOf === undefined) return experimentId;
  const V = relationSql(profile, 'experiments', 'wv');
  return sql`coalesce((select ${V.versionOf} from ${V.from} where ${V.id} = ${experimentId}), ${experimentId})`;
}

/**
 * The experiment-table rows whose sessions are filed under the ids `ids` (a bigint[] expression):
 * a row of its own that is in `ids`, and a published-version row whose versionOf is in `ids`
 * (countedExperiment's one step). A version row in `ids` files nothing under itself, except its own
 * versions' sessions (a chain, which OCS never writes). Without versionOf in the profile, `ids`
 * itself. For what counts in experiment totals, pass experiment rows only ({@link experimentRowsOf}).
 */
export function withVersionRows(profile: SourceProfile, ids: SQL): SQL {
  if (profile.experiments.versionOf === undefined) return ids;
  const V = relationSql(profile, 'experiments', 'wv');
  return sql`array(select ${V.id} from ${V.from}
                   where (${V.id} = any(${ids}) and ${isExperimentRow(V)}) or ${V.versionOf} = any(${ids}))`;
}

/**
 * The ids among `ids` (a bigint[] expression) that are experiments of their own: only those get
 * experiment buckets, participants and totals. Without versionOf in the profile, `ids` itself.
 */
export function experimentRowsOf(profile: SourceProfile, ids: SQL): SQL {
  if (profile.experiments.versionOf === undefined) return ids;
  const X = relationSql(profile, 'experiments', 'xr');
  return sql`array(select ${X.id} from ${X.from} where ${X.id} = any(${ids}) and ${isExperimentRow(X)})`;
}

/**
 * Whether experiment-table row `e` may have sessions filed under it, so a full rebuild or verify
 * must visit it: an experiment of its own, or a version row that has versions itself (a chain).
 */
export function isFilingRow(profile: SourceProfile, e: RelationSql<'experiments'>): SQL {
  if (profile.experiments.versionOf === undefined) return isExperimentRow(e);
  const C = relationSql(profile, 'experiments', 'child');
  return sql`(${isExperimentRow(e)} or exists (select 1 from ${C.from} where ${C.versionOf} = ${e.id}))`;
}

/**
 * countedExperiment for a bulk statement: a LEFT JOIN of session `s` to its experiment row (a hash
 * join over a batch, instead of one probe per row) and the experiment it counts under. Without
 * versionOf in the profile: no join, the session's own experiment id.
 */
export function countedExperimentJoin(
  profile: SourceProfile,
  s: RelationSql<'sessions'>,
): { join: SQL; experiment: SQL } {
  if (profile.experiments.versionOf === undefined) return { join: sql``, experiment: s.experimentId };
  const V = relationSql(profile, 'experiments', 'wv');
  return {
    join: sql`left join ${V.from} on ${V.id} = ${s.experimentId}`,
    experiment: sql`coalesce(${V.versionOf}, ${s.experimentId})`,
  };
}
