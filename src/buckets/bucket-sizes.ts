/** The bucket sizes and how long the longest one lasts. */
import { sql } from 'drizzle-orm';

/** Bucket sizes, finest first. Each is also a valid `date_trunc` unit. */
export const BUCKET_SIZES = ['hour', 'day', 'month'] as const;
export type BucketSize = (typeof BUCKET_SIZES)[number];

/**
 * The longest a bucket lasts (a 31-day month), as an SQL interval: a bucket overlapping [from, to)
 * starts after `from − LONGEST_BUCKET`, which lets a range read stay an index range on bucket_start.
 */
export const LONGEST_BUCKET = sql.raw("interval '744 hours'");
