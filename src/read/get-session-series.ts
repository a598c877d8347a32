/** Trend-chart series for a batch of sessions: their buckets of every size in a range, in one statement. */
import type { StatDb } from '../db/types.js';
import { type ReadOptions, resolveReadOptions } from './fresh/read-options.js';
import { readSeries, type SeriesMap, sessionPointsCtes } from './fresh/series-sql.js';
import { sessionPoint } from './series-points.js';
import type { SeriesRange, SessionSeriesPoint } from './series-types.js';
import { assertIds } from './validate-ids.js';
import { assertRange } from './validate-range.js';

/**
 * Returns a Map from each requested session id (in request order) to its buckets that overlap
 * [from, to) (bucket_end > from and bucket_start < to), of any size, oldest first, with the
 * answer's `freshness`; ids without such buckets (or unknown ids) map to []; unknown ids are listed in `unknownIds`. With `fresh`, every
 * point is exact at the instant of the read; while the cache was never built, counted live
 * (hourly). One SQL statement whatever the number of ids or the range.
 */
export async function getSessionSeries(
  db: StatDb,
  ids: readonly number[],
  range: SeriesRange & ReadOptions,
): Promise<SeriesMap<SessionSeriesPoint>> {
  assertIds(ids, 'session');
  assertRange(range);
  const window = { ids, from: range.from.toISOString(), to: range.to.toISOString() };
  return readSeries(db, resolveReadOptions(range), window, sessionPointsCtes, sessionPoint);
}
