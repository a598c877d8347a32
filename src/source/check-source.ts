/**
 * Checks a source profile against a database: every table and column present with a usable type,
 * the content type row a generic tag-link table needs, and the indexes statcache relies on. Three
 * statements whatever the profile (catalog reads only; nothing is written).
 */
import { sql } from 'drizzle-orm';
import { type Executor, queryRows, toNumber } from '../db/types.js';
import { quoted } from './quoted.js';
import { requiredIndexes } from './required-indexes.js';
import {
  type ColumnKind,
  OWNED_COLUMNS,
  RELATION_NAMES,
  SOURCE_RELATIONS,
  type SourceProfile,
} from './source-profile.js';

/** PostgreSQL types (pg_type.typname) each kind accepts. */
const USABLE_TYPES: Readonly<Record<ColumnKind, readonly string[]>> = {
  id: ['int2', 'int4', 'int8'],
  text: ['text', 'varchar', 'bpchar', 'citext', 'name'],
  timestamptz: ['timestamptz'],
  'text[]': ['_text'],
};

export type ColumnStatus = 'ok' | 'missing table' | 'missing column' | 'unusable type' | 'added by migrate';

export interface ColumnCheck {
  /** Profile key, e.g. `sessions.createdAt`. */
  key: string;
  table: string;
  column: string;
  kind: ColumnKind;
  /** The column's type as PostgreSQL prints it, or null when absent. */
  type: string | null;
  status: ColumnStatus;
}

export interface IndexCheck {
  table: string;
  columns: string[];
  reason: string;
  /** The existing valid index that serves, or null. */
  index: string | null;
}

export interface SourceCheck {
  /** False when a table, column, type or content type is wrong: statcache cannot run on it. */
  ok: boolean;
  columns: ColumnCheck[];
  /** The content type id of a chat message (generic tag links only); null if absent. */
  contentType: { match: Readonly<Record<string, string>>; id: number | null } | null;
  indexes: IndexCheck[];
}

interface Expected {
  key: string;
  table: string;
  column: string;
  kind: ColumnKind;
  owned: boolean;
}

function expectedColumns(profile: SourceProfile): Expected[] {
  const out: Expected[] = [];
  for (const relation of RELATION_NAMES) {
    const mapping = profile[relation] as unknown as Record<string, string | undefined>;
    const owned: readonly string[] = (OWNED_COLUMNS as Record<string, readonly string[]>)[relation] ?? [];
    for (const [key, kind] of Object.entries(SOURCE_RELATIONS[relation]) as [string, ColumnKind][]) {
      const column = mapping[key];
      if (column === undefined) continue;
      out.push({
        key: `${relation}.${key}`,
        table: mapping.table as string,
        column,
        kind,
        owned: owned.includes(key),
      });
    }
  }
  const ct = profile.tagLinks.contentType;
  if (ct) {
    out.push({
      key: 'tagLinks.contentType.column',
      table: profile.tagLinks.table,
      column: ct.column,
      kind: 'id',
      owned: false,
    });
    out.push({ key: 'tagLinks.contentType.id', table: ct.table, column: ct.id, kind: 'id', owned: false });
    for (const column of Object.keys(ct.match))
      out.push({
        key: `tagLinks.contentType.match.${column}`,
        table: ct.table,
        column,
        kind: 'text',
        owned: false,
      });
  }
  return out;
}

/** Checks `profile` against the database `db` is connected to. */
export async function checkSource(db: Executor, profile: SourceProfile): Promise<SourceCheck> {
  const expected = expectedColumns(profile);
  const found = await queryRows<{ table_exists: boolean; typname: string | null; type: string | null }>(
    db,
    sql`
    select c.oid is not null as table_exists, t.typname, format_type(a.atttypid, a.atttypmod) as type
    from unnest(${sql.param(expected.map((e) => e.table))}::text[], ${sql.param(expected.map((e) => e.column))}::text[])
           with ordinality as e(tbl, col, ord)
    left join pg_class c on c.oid = to_regclass(quote_ident(${profile.schema}) || '.' || quote_ident(e.tbl))
    left join pg_attribute a on a.attrelid = c.oid and a.attname = e.col and a.attnum > 0 and not a.attisdropped
    left join pg_type t on t.oid = a.atttypid
    order by e.ord`,
  );
  const columns: ColumnCheck[] = expected.map((e, i) => {
    const row = found[i];
    const status: ColumnStatus = !row?.table_exists
      ? 'missing table'
      : row.typname === null
        ? e.owned
          ? 'added by migrate'
          : 'missing column'
        : USABLE_TYPES[e.kind].includes(row.typname)
          ? 'ok'
          : 'unusable type';
    return { key: e.key, table: e.table, column: e.column, kind: e.kind, type: row?.type ?? null, status };
  });
  const columnsOk = columns.every((c) => c.status === 'ok' || c.status === 'added by migrate');
  const contentType = columnsOk ? await findContentType(db, profile) : contentTypeUnknown(profile);
  const indexes = columnsOk ? await findIndexes(db, profile) : [];
  return {
    ok: columnsOk && (contentType === null || contentType.id !== null),
    columns,
    contentType,
    indexes,
  };
}

function contentTypeUnknown(profile: SourceProfile): SourceCheck['contentType'] {
  const ct = profile.tagLinks.contentType;
  return ct ? { match: ct.match, id: null } : null;
}

/** The id of the content-type row that means "a chat message". */
async function findContentType(db: Executor, profile: SourceProfile): Promise<SourceCheck['contentType']> {
  const ct = profile.tagLinks.contentType;
  if (!ct) return null;
  const conditions = Object.entries(ct.match).map(([column, value]) => sql`${quoted(column)} = ${value}`);
  const [row] = await queryRows<{ id: unknown }>(
    db,
    sql`select ${quoted(ct.id)} as id from ${quoted(profile.schema, ct.table)} where ${sql.join(conditions, sql` and `)}`,
  );
  return { match: ct.match, id: row ? toNumber(row.id) : null };
}

async function findIndexes(db: Executor, profile: SourceProfile): Promise<IndexCheck[]> {
  const required = requiredIndexes(profile).map((r) => ({
    ...r,
    table: (profile[r.relation] as { table: string }).table,
  }));
  const rows = await queryRows<{ index: string | null }>(
    db,
    sql`
    select (
      select i.indexrelid::regclass::text
      from pg_index i
      join pg_class ic on ic.oid = i.indexrelid
      join pg_am am on am.oid = ic.relam
      where i.indrelid = to_regclass(quote_ident(${profile.schema}) || '.' || quote_ident(r.tbl))
        and i.indisvalid and i.indpred is null and am.amname = 'btree'
        and (select array_agg(a.attname::text order by k.n)
             from unnest(i.indkey::int2[]) with ordinality k(attnum, n)
             join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
             where k.n <= cardinality(r.cols) and k.n <= i.indnkeyatts) = r.cols
      order by i.indnatts, 1
      limit 1) as index
    from jsonb_to_recordset(${JSON.stringify(required.map((r, ord) => ({ ord, tbl: r.table, cols: r.columns })))}::jsonb)
           as r(ord int, tbl text, cols text[])
    order by r.ord`,
  );
  return required.map((r, i) => ({
    table: r.table,
    columns: r.columns,
    reason: r.reason,
    index: rows[i]?.index ?? null,
  }));
}

/**
 * What is wrong, in one line: the missing tables, the missing columns and the unusable types (with
 * the profile keys), and a missing content type row.
 */
export function describeMismatch(check: SourceCheck): string {
  const tables = [...new Set(check.columns.filter((c) => c.status === 'missing table').map((c) => c.table))];
  const columns = check.columns
    .filter((c) => c.status === 'missing column')
    .map((c) => `${c.table}.${c.column} (${c.key})`);
  const types = check.columns
    .filter((c) => c.status === 'unusable type')
    .map((c) => `${c.table}.${c.column} is ${c.type}, ${c.key} needs ${c.kind}`);
  const parts = [
    tables.length > 0 ? `missing tables ${tables.join(', ')}` : '',
    columns.length > 0 ? `missing columns ${columns.join(', ')}` : '',
    types.length > 0 ? `unusable types: ${types.join('; ')}` : '',
    check.contentType && check.contentType.id === null
      ? `no content type row matching ${Object.entries(check.contentType.match)
          .map(([column, value]) => `${column} = '${value}'`)
          .join(' and ')}`
      : '',
  ];
  return parts.filter(Boolean).join('; ');
}
