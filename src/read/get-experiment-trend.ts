/** One experiment's name and trend buckets in a range, for its chart, in one statement. */

import { sql } from 'drizzle-orm';
import type { BucketSize } from '../buckets/bucket-sizes.js';
import { type StatDb, toNumber } from '../db/types.js';
import { InvalidInputError } from '../errors/error-classes.js';
import { isExperimentRow, relationSql } from '../source/relation-sql.js';
import { readAnswer } from './fresh/read-answer.js';
import { resolveReadOptions } from './fresh/read-options.js';
import { experimentPointsCtes } from './fresh/series-sql.js';
import { FRESHNESS_COLUMNS, type Freshness, type FreshnessRow, freshnessOf } from './freshness.js';
import { type BucketRow, experimentPoint } from './series-points.js';
import type { ExperimentSeriesPoint, SeriesOptions } from './series-types.js';
import { assertRange } from './validate-range.js';

export interface ExperimentTrend {
  experimentId: number;
  teamId: number;
  name: string;
  points: ExperimentSeriesPoint[];
  freshness: Freshness;
}

interface Row extends Omit<BucketRow, 'bucket_size'>, FreshnessRow {
  team_id: unknown;
  name: string | null;
  bucket_size: BucketSize | null;
}

/**
 * The experiment (null if it does not exist, or its row is not an experiment of its own but a
 * published version of one) with its buckets of every size overlapping [from, to), oldest first.
 * The experiment row is left-joined to its points (getExperimentSeries' CTEs, so `fresh` and the
 * live fallback work alike), so one statement answers both "does it exist" and "what are its buckets".
 *
 * @param range - the range, and `source`: where the platform keeps its tables (default: the statcache
 *   demo schema).
 */
export async function getExperimentTrend(
  db: StatDb,
  experimentId: number,
  range: SeriesOptions,
): Promise<ExperimentTrend | null> {
  if (!Number.isSafeInteger(experimentId) || experimentId < 1)
    throw new InvalidInputError(
      `experiment id must be a positive whole number (got '${String(experimentId)}')`,
    );
  assertRange(range);
  const read = resolveReadOptions(range);
  const E = relationSql(read.source, 'experiments', 'e');
  const window = { ids: [experimentId], from: range.from.toISOString(), to: range.to.toISOString() };
  const rows = await readAnswer<Row>(
    db,
    read,
    (bound) => sql`
    with ${experimentPointsCtes({ ...read, freshMaxPending: bound }, window)}
    select ${E.id} as id, ${E.teamId} as team_id, ${E.name} as name, p.bucket_size, p.bucket_start, p.bucket_end,
           p.sessions, p.participants, p.human_messages, p.last_activity_at, ${FRESHNESS_COLUMNS}
    from ${E.from}
    left join points p on p.id = ${E.id}
    where ${E.id} = ${experimentId} and ${isExperimentRow(E)}
    order by p.bucket_start, p.bucket_end`,
  );
  const [first] = rows;
  if (!first) return null;
  return {
    experimentId: toNumber(first.id),
    teamId: toNumber(first.team_id),
    name: first.name ?? '',
    freshness: freshnessOf(first),
    points: rows.filter((r): r is Row & BucketRow => r.bucket_size !== null).map(experimentPoint),
  };
}
