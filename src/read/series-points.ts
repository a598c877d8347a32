/** Bucket rows → series points, shared by the series and trend helpers. */

import type { BucketSize } from '../buckets/bucket-sizes.js';
import { toDate, toNumber } from '../db/types.js';
import type { ExperimentSeriesPoint, SessionSeriesPoint } from './series-types.js';

/** The bucket columns every series statement selects (counts absent for session buckets). */
export interface BucketRow {
  id: unknown;
  bucket_size: BucketSize;
  bucket_start: unknown;
  bucket_end: unknown;
  sessions?: unknown;
  participants?: unknown;
  human_messages: unknown;
  last_activity_at: unknown;
}

export function sessionPoint(row: BucketRow): SessionSeriesPoint {
  return {
    bucketSize: row.bucket_size,
    bucketStart: toDate(row.bucket_start) as Date,
    bucketEnd: toDate(row.bucket_end) as Date,
    humanMessages: toNumber(row.human_messages),
    lastActivityAt: toDate(row.last_activity_at),
  };
}

export function experimentPoint(row: BucketRow): ExperimentSeriesPoint {
  const { humanMessages, lastActivityAt, ...bucket } = sessionPoint(row);
  return {
    ...bucket,
    sessions: toNumber(row.sessions),
    participants: toNumber(row.participants),
    humanMessages,
    lastActivityAt,
  };
}

/**
 * Groups rows (ordered by id, then time) into a Map in request order; ids without rows map to [].
 */
export function groupInRequestOrder<P>(
  ids: readonly number[],
  rows: readonly BucketRow[],
  toPoint: (row: BucketRow) => P,
): Map<number, P[]> {
  const byId = new Map<number, P[]>();
  for (const row of rows) {
    const id = toNumber(row.id);
    const points = byId.get(id) ?? [];
    byId.set(id, points);
    points.push(toPoint(row));
  }
  const series = new Map<number, P[]>();
  for (const id of ids) series.set(id, byId.get(id) ?? []);
  return series;
}
