/** Trend-chart series for a batch of experiments: their buckets of every size in a range, in one statement. */
import type { StatDb } from '../db/types.js';
import { resolveReadOptions } from './fresh/read-options.js';
import { experimentPointsCtes, readSeries, type SeriesMap } from './fresh/series-sql.js';
import { experimentPoint } from './series-points.js';
import type { ExperimentSeriesPoint, SeriesOptions } from './series-types.js';
import { assertIds } from './validate-ids.js';
import { assertRange } from './validate-range.js';

/**
 * Returns a Map from each requested experiment id (in request order) to its buckets that overlap
 * [from, to) (bucket_end > from and bucket_start < to), of any size, oldest first, with the
 * answer's `freshness`; ids without such buckets, unknown ids and ids of rows that are not
 * experiments of their own (published versions, when `range.source` keeps them as experiment rows)
 * map to [], and the ids that are not experiments are listed in `unknownIds` (so a caller can tell
 * "no activity" from "no such experiment"). With `fresh`, every point is exact at the instant of the read; while the cache was
 * never built, the points are counted live (hourly). One SQL statement whatever the number of ids
 * or the range.
 *
 * @param range - the range, and the read options (`source`, `fresh`, ...).
 */
export async function getExperimentSeries(
  db: StatDb,
  ids: readonly number[],
  range: SeriesOptions,
): Promise<SeriesMap<ExperimentSeriesPoint>> {
  assertIds(ids, 'experiment');
  assertRange(range);
  const window = { ids, from: range.from.toISOString(), to: range.to.toISOString() };
  return readSeries(db, resolveReadOptions(range), window, experimentPointsCtes, experimentPoint);
}
