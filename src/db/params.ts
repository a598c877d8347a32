/**
 * Array parameters. drizzle's sql`` expands a JS array into a list of parameters; batches must go
 * as one array parameter with an explicit cast instead (`= ANY($1::bigint[])`).
 */
import { type SQL, sql } from 'drizzle-orm';

/** One `bigint[]` parameter. */
export function bigintArray(values: readonly number[]): SQL {
  return sql`${sql.param([...values])}::bigint[]`;
}

/** One `text[]` parameter. */
export function textArray(values: readonly string[]): SQL {
  return sql`${sql.param([...values])}::text[]`;
}
