/** What one merge step does: fine buckets before a boundary become coarse ones. */

export interface Merge {
  fine: 'hour' | 'day';
  coarse: 'day' | 'month';
  /** A `coarse` period boundary: fine buckets starting before it are merged. */
  before: Date;
}
