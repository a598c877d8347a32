/** Which experiments have buckets the policy would merge now. */
import { sql } from 'drizzle-orm';
import type { BucketShape } from '../buckets/shape.js';
import { boundarySql } from '../buckets/shape-sql.js';
import { type Executor, queryRows, toNumber } from '../db/types.js';

/**
 * Experiment ids (ascending) with an hourly bucket before `shape.dayBefore` or a daily one before
 * `shape.monthBefore`, in either bucket table (session buckets by the experiment they are filed
 * under). One statement; it reads the bucket tables once, which compression keeps small.
 */
export async function findCompressibleExperiments(db: Executor, shape: BucketShape): Promise<number[]> {
  const day = boundarySql(shape.dayBefore);
  const month = boundarySql(shape.monthBefore);
  const rows = await queryRows<{ experiment_id: unknown }>(
    db,
    sql`
    select experiment_id from experiment_statistics_buckets
    where (bucket_size = 'hour' and bucket_start < ${day})
       or (bucket_size = 'day' and bucket_start < ${month})
    union
    select experiment_id from session_statistics_buckets
    where (bucket_size = 'hour' and bucket_start < ${day})
       or (bucket_size = 'day' and bucket_start < ${month})
    order by 1`,
  );
  return rows.map((r) => toNumber(r.experiment_id));
}
