/** The platform's version tags with their natural-order keys, computed once per tag. */
import { type SQL, sql } from 'drizzle-orm';
import { relationSql } from '../source/relation-sql.js';
import type { SourceProfile } from '../source/source-profile.js';

/** The tag category whose names are experiment versions. */
export const EXPERIMENT_VERSION_CATEGORY = 'experiment_version';

/**
 * A relation (id, name text, sort_key) of the profile's `experiment_version` tags, to join tag links
 * to. statcache_natural_sort_key is a regular-expression function: evaluated per tag here (a few
 * hundred rows), not per tagged message (millions), it cost 0.7 s of a 1.4 s versions pass at 1M
 * messages. OFFSET 0 keeps PostgreSQL from pulling the subquery up into the join, which would
 * evaluate the key once per joined row again.
 */
export function versionTagsSql(source: SourceProfile): SQL {
  const T = relationSql(source, 'tags', 'vt0');
  return sql`(select ${T.id} as id, ${T.name}::text as name, statcache_natural_sort_key(${T.name}::text) as sort_key
     from ${T.from} where ${T.category} = ${EXPERIMENT_VERSION_CATEGORY} offset 0)`;
}

/**
 * A relation (id, name text) of the profile's `experiment_version` tags, without sort keys: for
 * statements that read a few chats' tags, which key only the distinct names they find
 * (keyedNamesSql), not every version tag the platform holds (which grows with every publish).
 */
export function versionNamesSql(source: SourceProfile): SQL {
  const T = relationSql(source, 'tags', 'vn0');
  return sql`(select ${T.id} as id, ${T.name}::text as name from ${T.from} where ${T.category} = ${EXPERIMENT_VERSION_CATEGORY})`;
}

/**
 * (name, sort_key) for the distinct `name`s of `relation`: the key once per distinct name. OFFSET 0,
 * as in versionTagsSql: without it PostgreSQL pulls the subquery up into the join and evaluates the
 * key once per joined row after all (10 µs each: 4 of the 20 ms a new hour's 500 sessions took).
 */
export function keyedNamesSql(relation: SQL): SQL {
  return sql`(select d.name, statcache_natural_sort_key(d.name) as sort_key
     from (select distinct name from ${relation}) d offset 0)`;
}

/** `array_agg(<alias>.name …)` in natural order, over rows that carry versionTagsSql's sort_key. */
export function versionsAgg(alias: string): SQL {
  const a = sql.raw(alias);
  return sql`array_agg(${a}.name order by ${a}.sort_key collate "C", ${a}.name collate "C")`;
}
