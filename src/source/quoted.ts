/** Profile names in SQL: always as quoted identifiers (schema-qualified when two are given). */
import { type SQL, sql } from 'drizzle-orm';

/** `"name"`, or `"schema"."name"`: quoted by the driver's rules, whatever characters a name holds. */
export function quoted(...names: string[]): SQL {
  return sql.join(
    names.map((name) => sql.identifier(name)),
    sql`.`,
  );
}
