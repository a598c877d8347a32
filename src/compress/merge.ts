/** What one merge step does: fine buckets before a boundary become coarse ones. */
import { type SQL, sql } from 'drizzle-orm';

export interface Merge {
  fine: 'hour' | 'day';
  coarse: 'day' | 'month';
  /** A `coarse` period boundary: fine buckets starting before it are merged. */
  before: Date;
}

/** End of the `coarse` period starting at `start`, added on the UTC wall clock (see shape-sql.ts). */
export function periodEndSql(coarse: 'day' | 'month', start: SQL): SQL {
  return sql`(((${start}) at time zone 'UTC') + ${sql.raw(`interval '1 ${coarse}'`)}) at time zone 'UTC'`;
}
