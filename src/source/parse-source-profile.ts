/**
 * Reads a source profile from JSON (a file named by STATCACHE_SOURCE), validating it once: every
 * relation and column present, every name a usable PostgreSQL identifier, no unknown keys. Errors
 * name the key and say what is expected. Names are only ever used as quoted identifiers.
 */
import { SourceProfileError } from '../errors/error-classes.js';
import {
  type ContentTypeFilter,
  OPTIONAL_COLUMNS,
  RELATION_NAMES,
  type RelationName,
  SOURCE_RELATIONS,
  type SourceProfile,
} from './source-profile.js';

/** PostgreSQL truncates longer identifiers (NAMEDATALEN − 1 bytes): refuse them instead. */
const MAX_IDENTIFIER_BYTES = 63;
const DEFAULT_SCHEMA = 'public';

type Json = Record<string, unknown>;

/** The profile `json` describes; `origin` (the file's path) names it in errors. */
export function parseSourceProfile(json: unknown, origin: string): SourceProfile {
  const root = object(json, origin, '', 'must be a JSON object with name, schema and one key per relation');
  known(root, origin, '', ['name', 'schema', ...RELATION_NAMES]);
  const profile: Json = {
    name: text(root.name, origin, 'name', 'must be a non-empty string, e.g. "ocs"'),
    origin,
    schema: root.schema === undefined ? DEFAULT_SCHEMA : identifier(root.schema, origin, 'schema'),
  };
  for (const relation of RELATION_NAMES) profile[relation] = parseRelation(root, origin, relation);
  return profile as unknown as SourceProfile;
}

function parseRelation(root: Json, origin: string, relation: RelationName): Json {
  const columns = Object.keys(SOURCE_RELATIONS[relation]);
  const extra =
    relation === 'sessions' ? ['platformNullable'] : relation === 'tagLinks' ? ['contentType'] : [];
  const raw = object(
    root[relation],
    origin,
    relation,
    `must be an object naming the table and its columns (${columns.join(', ')})`,
  );
  known(raw, origin, relation, ['table', ...columns, ...extra]);
  const optional: readonly string[] = (OPTIONAL_COLUMNS as Record<string, readonly string[]>)[relation] ?? [];
  const out: Json = { table: identifier(raw.table, origin, `${relation}.table`) };
  for (const column of columns) {
    const key = `${relation}.${column}`;
    out[column] =
      raw[column] === undefined && optional.includes(column)
        ? undefined
        : identifier(raw[column], origin, key);
  }
  if (relation === 'sessions') {
    if (raw.platformNullable !== undefined && typeof raw.platformNullable !== 'boolean')
      throw new SourceProfileError(origin, 'sessions.platformNullable', 'must be true or false');
    out.platformNullable = raw.platformNullable ?? false;
  }
  if (relation === 'tagLinks' && raw.contentType !== undefined)
    out.contentType = parseContentType(raw.contentType, origin);
  return out;
}

function parseContentType(value: unknown, origin: string): ContentTypeFilter {
  const key = 'tagLinks.contentType';
  const raw = object(
    value,
    origin,
    key,
    'must be an object {column, table, id, match} naming the content type of a chat message',
  );
  known(raw, origin, key, ['column', 'table', 'id', 'match']);
  const match = object(
    raw.match,
    origin,
    `${key}.match`,
    'must map columns to values, e.g. {"model": "chatmessage"}',
  );
  const entries = Object.entries(match);
  if (entries.length === 0)
    throw new SourceProfileError(origin, `${key}.match`, 'must name at least one column and its value');
  return {
    column: identifier(raw.column, origin, `${key}.column`),
    table: identifier(raw.table, origin, `${key}.table`),
    id: identifier(raw.id, origin, `${key}.id`),
    match: Object.fromEntries(
      entries.map(([column, v]) => [
        identifier(column, origin, `${key}.match`),
        text(v, origin, `${key}.match.${column}`, 'must be a string'),
      ]),
    ),
  };
}

function object(value: unknown, origin: string, key: string, expected: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new SourceProfileError(origin, key, value === undefined ? `is missing; it ${expected}` : expected);
  return value as Json;
}

function known(raw: Json, origin: string, prefix: string, keys: readonly string[]): void {
  for (const key of Object.keys(raw))
    if (!keys.includes(key))
      throw new SourceProfileError(
        origin,
        prefix ? `${prefix}.${key}` : key,
        `is not a profile key; expected one of ${keys.join(', ')}`,
      );
}

function text(value: unknown, origin: string, key: string, expected: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new SourceProfileError(origin, key, expected);
  return value;
}

/** A table, column or schema name: any characters (it is always quoted) but none PostgreSQL refuses. */
function identifier(value: unknown, origin: string, key: string): string {
  const expected = 'must be a table or column name (a non-empty string of at most 63 bytes)';
  if (value === undefined) throw new SourceProfileError(origin, key, `is missing; it ${expected.slice(5)}`);
  const name = text(value, origin, key, expected);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL cannot be part of an identifier.
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES || /\u0000/.test(name))
    throw new SourceProfileError(origin, key, `${expected} (got '${name}')`);
  return name;
}
