/** SQL fragments that place an instant in the bucket a shape prescribes (UTC whatever the TimeZone). */
import { type SQL, sql } from 'drizzle-orm';
import type { BucketShape } from './shape.js';

/** A shape boundary as a timestamptz parameter; a missing boundary is -infinity (nothing before it). */
export function boundarySql(at: Date | null): SQL {
  return sql`${at === null ? '-infinity' : at.toISOString()}::timestamptz`;
}

/** Start of the bucket holding `ts`: its UTC month, day or hour, by the shape. */
export function bucketStartSql(ts: SQL, shape: BucketShape): SQL {
  return sql`(case when ${ts} < ${boundarySql(shape.monthBefore)} then date_trunc('month', ${ts}, 'UTC')
                   when ${ts} < ${boundarySql(shape.dayBefore)} then date_trunc('day', ${ts}, 'UTC')
                   else date_trunc('hour', ${ts}, 'UTC') end)`;
}

/** Size of the bucket starting at `start` (a value of bucketStartSql under the same shape). */
export function bucketSizeSql(start: SQL, shape: BucketShape): SQL {
  return sql`(case when ${start} < ${boundarySql(shape.monthBefore)} then 'month'
                   when ${start} < ${boundarySql(shape.dayBefore)} then 'day'
                   else 'hour' end)`;
}

/**
 * End of a bucket of `size` starting at `start`. Days and months are added to the UTC wall clock
 * (timestamp without time zone), never in the session's TimeZone, where a day can last 23 hours.
 */
export function bucketEndSql(size: SQL, start: SQL): SQL {
  return sql`(case ${size} when 'hour' then ${start} + interval '1 hour'
                          when 'day' then ((${start} at time zone 'UTC') + interval '1 day') at time zone 'UTC'
                          else ((${start} at time zone 'UTC') + interval '1 month') at time zone 'UTC' end)`;
}
