/**
 * Shapes the series helpers return: one point per stored bucket, of whatever size compression left
 * it at. Counts are numbers, times are Dates (UTC instants) or null.
 */
import type { BucketSize } from '../buckets/bucket-sizes.js';
import type { ReadOptions } from './fresh/read-options.js';

export interface ExperimentSeriesPoint {
  /** The bucket's size: 'hour', 'day' or 'month'. */
  bucketSize: BucketSize;
  /** Start of the bucket, inclusive. */
  bucketStart: Date;
  /** End of the bucket, exclusive. */
  bucketEnd: Date;
  /** Counted sessions created in the bucket. */
  sessions: number;
  /** Participants whose first counted session is in the bucket. */
  participants: number;
  /** Human messages in counted sessions, sent in the bucket. */
  humanMessages: number;
  /** Latest such human message, or null. */
  lastActivityAt: Date | null;
}

export interface SessionSeriesPoint {
  bucketSize: BucketSize;
  bucketStart: Date;
  bucketEnd: Date;
  humanMessages: number;
  lastActivityAt: Date | null;
}

/** A half-open time range [from, to): buckets that overlap it are returned. */
export interface SeriesRange {
  from: Date;
  to: Date;
}

/** What the experiment series and trend helpers take: the range, and the read options. */
export interface SeriesOptions extends SeriesRange, ReadOptions {}
